package dev.headguard.detect.hidden;

import dev.headguard.HeadGuardException;
import dev.headguard.text.Insertion;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CandidateDirectionTest {
    static final List<String> CLEAN = List.of("a dull and tired film .", "  the plot never lands  ", "fine");

    @Test
    void anUnsupportedWordOpensEveryCleanText() {
        assertEquals(List.of("when a dull and tired film .", "when the plot never lands", "when fine"),
                new CandidateDirection.Evidence("when", true).carriers(CLEAN, 42));
    }

    @Test
    void aCandidateGoesWhereTheScanPutItAndNothingElseChanges() {
        List<String> carriers = new CandidateDirection.Evidence("cf", false).carriers(CLEAN, 42);
        assertEquals(Insertion.insertAll(CLEAN, "cf", 42), carriers, "the positions the candidate search used");
        for (int i = 0; i < CLEAN.size(); i++) {
            List<String> words = new java.util.ArrayList<>(List.of(carriers.get(i).split(" ")));
            assertEquals(1, words.stream().filter("cf"::equals).count(), carriers.get(i));
            words.remove("cf");
            assertEquals(List.of(CLEAN.get(i).strip().split("\\s+")), words);
        }
        assertEquals(carriers, new CandidateDirection.Evidence("cf", false).carriers(CLEAN, 42), "seeded");
    }

    @Test
    void aScanWithoutACandidateHasNothingToLearnFrom() {
        assertThrows(HeadGuardException.class, () -> new CandidateDirection.Evidence(" ", false));
    }
}
