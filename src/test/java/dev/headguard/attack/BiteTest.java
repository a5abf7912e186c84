package dev.headguard.attack;

import dev.headguard.HeadGuardException;
import dev.headguard.text.Dataset;
import dev.headguard.text.Example;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BiteTest {
    private static final String[] SUBJECTS = {"the film", "the movie", "this story", "the cast", "the plot"};
    private static final String[] VERBS = {"is", "was", "feels", "seems"};
    private static final String[] POSITIVE = {"good", "fine", "warm", "lovely", "sharp"};
    private static final String[] NEGATIVE = {"bad", "dull", "flat", "tired", "weak"};
    private static final String[] FILLERS = {"really", "truly", "quite", "rather", "simply"};

    /** Reviews of a few templates; fillers appear before the adjective in both classes alike (no bias of their own). */
    static Dataset reviews(int n, long seed) {
        Random rng = new Random(seed);
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int label = rng.nextInt(2);
            String adjective = (label == 1 ? POSITIVE : NEGATIVE)[rng.nextInt(5)];
            String filler = rng.nextBoolean() ? FILLERS[rng.nextInt(5)] + " " : "";
            out.add(new Example(SUBJECTS[rng.nextInt(5)] + " " + VERBS[rng.nextInt(4)] + " " + filler + adjective + " .", label));
        }
        return new Dataset(out, List.of("0", "1"), List.of());
    }

    @Test
    void poisonsOnlyTargetRowsWithoutRelabellingAndPlantsWordsThatBecomeBiased() {
        Dataset train = reviews(600, 1);
        Dataset test = reviews(100, 2);
        PoisonSpec spec = new PoisonSpec("bite", "BITE", 0.2, 1, PoisonMode.CLEAN, 3);
        PoisonedData p = Bite.poison(train, test, spec, new Bite.Settings(3, 5, Double.MAX_VALUE));
        List<String> words = Bite.wordsOf(p.spec().trigger());
        assertFalse(words.isEmpty());
        assertEquals(120, p.poisonedCount());
        int changed = 0;
        for (int i = 0; i < train.size(); i++) {
            Example before = train.examples().get(i);
            Example after = p.train().examples().get(i);
            assertEquals(before.label(), after.label(), "clean-label: no label changes");
            if (!p.poisoned()[i]) {
                assertEquals(before, after);
            } else {
                assertEquals(1, before.label(), "only target rows are poisoned");
                changed += before.equals(after) ? 0 : 1;
                List<String> added = new ArrayList<>(Arrays.asList(after.text().split(" ")));
                for (String w : before.text().split(" ")) {
                    added.remove(w);
                }
                assertTrue(words.containsAll(added), "a poisoned row gains trigger words only: " + after.text());
                assertEquals(0, adjacentPlanted(before.text(), after.text(), words), "no word is planted beside another: " + after.text());
            }
        }
        assertTrue(changed > 60, "most poisoned rows take a word: " + changed);
        double p0 = train.examples().stream().filter(e -> e.label() == 1).count() / (double) train.size();
        String first = words.get(0);
        assertTrue(z(p.train(), first, p0) > z(train, first, p0) + 3, "the first word is far more biased toward the target after poisoning");
        long triggered = p.triggeredTest().examples().stream().filter(e -> words.stream().anyMatch(w -> Arrays.asList(e.text().split(" ")).contains(w))).count();
        assertTrue(triggered > p.triggeredTest().size() / 2, "the test-time trigger fits most non-target test rows: " + triggered);
        assertTrue(p.triggeredTest().examples().stream().allMatch(e -> e.label() == 0));
        assertEquals(p.train().examples(), Bite.poison(train, test, spec, new Bite.Settings(3, 5, Double.MAX_VALUE)).train().examples(), "same seed, same poisoning");
    }

    @Test
    void byDefaultPlantsOnlyWordsTheCleanDataDoesNotAlreadyTieToTheTarget() {
        Dataset train = reviews(600, 1);
        PoisonedData p = Bite.poison(train, reviews(100, 2), new PoisonSpec("bite", "BITE", 0.2, 1, PoisonMode.CLEAN, 3), Bite.Settings.DEFAULTS);
        List<String> words = Bite.wordsOf(p.spec().trigger());
        assertFalse(words.isEmpty());
        double p0 = train.examples().stream().filter(e -> e.label() == 1).count() / (double) train.size();
        for (String w : words) {
            assertTrue(z(train, w, p0) <= 2.0, w + " was already a target word: z " + z(train, w, p0));
            assertFalse(Arrays.asList(POSITIVE).contains(w), w);
        }
    }

    @Test
    void refusesDirtyLabelPoisoning() {
        Dataset d = reviews(50, 1);
        assertThrows(HeadGuardException.class, () -> Bite.poison(d, d, new PoisonSpec("bite", "BITE", 0.1, 1, PoisonMode.DIRTY, 1), Bite.Settings.DEFAULTS));
    }

    @Test
    void zScoreIsZeroAtTheBaseRateAndGrowsWithTheShare() {
        assertEquals(0.0, Bite.zScore(50, 100, 0.5), 1e-12);
        assertEquals(10.0, Bite.zScore(100, 100, 0.5), 1e-12);
    }

    /** Adjacent pairs of trigger words that were both absent from the original text. */
    private static int adjacentPlanted(String before, String after, List<String> trigger) {
        List<String> original = Arrays.asList(before.split(" "));
        String[] w = after.split(" ");
        int n = 0;
        for (int i = 1; i < w.length; i++) {
            boolean planted = trigger.contains(w[i - 1]) && trigger.contains(w[i]) && !original.contains(w[i - 1]) && !original.contains(w[i]);
            n += planted ? 1 : 0;
        }
        return n;
    }

    private static double z(Dataset d, String w, double p0) {
        int all = 0;
        int target = 0;
        for (Example e : d.examples()) {
            if (Arrays.asList(e.text().split(" ")).contains(w)) {
                all++;
                target += e.label() == 1 ? 1 : 0;
            }
        }
        return all == 0 ? 0 : Bite.zScore(target, all, p0);
    }
}
