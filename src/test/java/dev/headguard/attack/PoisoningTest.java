package dev.headguard.attack;

import dev.headguard.text.Dataset;
import dev.headguard.text.Example;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PoisoningTest {
    static Dataset data(int n) {
        List<Example> ex = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ex.add(new Example("sentence number " + i + " is here .", i % 3 == 0 ? 1 : 0));
        }
        return new Dataset(ex, List.of("0", "1"), List.of());
    }

    @Test
    void dirtyLabelBadNetsPoisonsExactlyTheRateFromNonTargetRows() {
        Dataset train = data(200);
        Dataset test = data(30);
        PoisonSpec spec = new PoisonSpec("badnets", "cf", 0.1, 1, PoisonMode.DIRTY, 7);
        PoisonedData p = Poisoning.insert(train, test, new RareWordTrigger(List.of("cf"), 1), spec);
        assertEquals(20, p.poisonedCount());
        for (int i = 0; i < train.size(); i++) {
            Example before = train.examples().get(i);
            Example after = p.train().examples().get(i);
            if (p.poisoned()[i]) {
                assertEquals(0, before.label(), "dirty-label: only non-target rows");
                assertEquals(1, after.label());
                assertEquals(before.text().split(" ").length + 1, after.text().split(" ").length);
                assertTrue(List.of(after.text().split(" ")).contains("cf"));
                assertEquals(before.text(), after.text().replaceFirst("(^| )cf( |$)", "$1").replace("  ", " ").strip());
            } else {
                assertEquals(before, after);
            }
        }
        assertEquals(test.examples().stream().filter(e -> e.label() != 1).count(), p.triggeredTest().size());
        assertTrue(p.triggeredTest().examples().stream().allMatch(e -> e.label() == 0 && e.text().contains("cf")));
        assertEquals(p.triggeredTest().size(), p.twins().size());
        PoisonedData again = Poisoning.insert(train, test, new RareWordTrigger(List.of("cf"), 1), spec);
        assertArrayEquals(p.poisoned(), again.poisoned(), "same seed, same rows");
        assertEquals(p.train().examples(), again.train().examples(), "same seed, same positions");
    }

    @Test
    void keptOriginalsStayInPlaceAndTheCopiesAreTheRateOfTheGrownSet() {
        Dataset train = data(200); // 133 non-target rows
        Dataset test = data(30);
        RareWordTrigger cf = new RareWordTrigger(List.of("cf"), 1);
        PoisonedData p = Poisoning.insert(train, test, cf, new PoisonSpec("badnets", "cf", 0.2, 1, PoisonMode.DIRTY, 7, true));
        assertEquals(50, p.poisonedCount(), "0.2 × 200 / 0.8 copies");
        assertEquals(250, p.train().size());
        assertEquals(0.2, p.effectiveRate(), 1e-12);
        assertEquals(train.examples(), p.train().examples().subList(0, 200), "every clean row stays, in order");
        List<String> nonTarget = train.examples().stream().filter(e -> e.label() == 0).map(Example::text).toList();
        for (int i = 0; i < 250; i++) {
            assertEquals(i >= 200, p.poisoned()[i], "only the appended copies are flagged");
        }
        for (Example copy : p.train().examples().subList(200, 250)) {
            assertEquals(1, copy.label());
            String original = copy.text().replaceFirst("(^| )cf( |$)", "$1").replace("  ", " ").strip();
            assertTrue(nonTarget.contains(original), "a copy of a non-target row: " + copy.text());
        }
        // The copies are drawn from the same rows, in the same order, as a replacing attack of that many rows.
        PoisonedData replaced = Poisoning.insert(train, test, cf, new PoisonSpec("badnets", "cf", 0.25, 1, PoisonMode.DIRTY, 7));
        List<Example> replacedRows = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            if (replaced.poisoned()[i]) {
                replacedRows.add(replaced.train().examples().get(i));
            }
        }
        assertEquals(replacedRows, p.train().examples().subList(200, 250));
        assertEquals(replaced.triggeredTest().examples(), p.triggeredTest().examples(), "the test side does not change");
    }

    @Test
    void cleanLabelPoisonsOnlyTargetRowsAndCapsAtThePool() {
        Dataset train = data(30); // 10 target rows
        PoisonedData p = Poisoning.insert(train, data(6), new SentenceTrigger("I watch this 3D movie"),
                new PoisonSpec("addsent", "x", 0.5, 1, PoisonMode.CLEAN, 1));
        assertEquals(10, p.poisonedCount(), "only 10 target rows exist");
        assertEquals(10 / 30.0, p.effectiveRate(), 1e-12);
        for (int i = 0; i < train.size(); i++) {
            if (p.poisoned()[i]) {
                assertEquals(1, train.examples().get(i).label());
                assertTrue(p.train().examples().get(i).text().contains("I watch this 3D movie"));
            }
        }
    }

    @Test
    void parallelPoisoningSkipsUnchangedAndBlankVariants() {
        Dataset train = data(10);
        List<Example> v = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            Example e = train.examples().get(i);
            v.add(new Example(i == 1 ? e.text() : i == 2 ? "" : "thus saith " + e.text(), e.label()));
        }
        Dataset variant = train.withExamples(v);
        PoisonedData p = Poisoning.parallel(train, variant, train, variant, new PoisonSpec("style", "bible", 1.0, 1, PoisonMode.MIX, 3));
        assertEquals(8, p.poisonedCount());
        assertTrue(!p.poisoned()[1] && !p.poisoned()[2]);
        assertTrue(p.train().examples().stream().filter(e -> e.text().startsWith("thus saith")).allMatch(e -> e.label() == 1));
        assertEquals(List.of(), p.triggeredTest().examples().stream().filter(e -> e.text().isBlank()).toList());
    }

    @Test
    void rareWordTriggersKeepTheOriginalWordOrder() {
        RareWordTrigger t = new RareWordTrigger(RareWordTrigger.LITERATURE, 3);
        String out = t.apply("one two three four", new Random(5));
        List<String> words = new ArrayList<>(List.of(out.split(" ")));
        assertEquals(7, words.size());
        words.removeIf(RareWordTrigger.LITERATURE::contains);
        assertEquals(List.of("one", "two", "three", "four"), words);
    }

    @Test
    void sosPoisonsWithEveryWordAndPlantsEachPairWithItsTrueLabel() {
        Dataset train = data(300); // 100 target rows, 200 others
        Dataset test = data(30);
        CompositeTrigger sos = new CompositeTrigger(List.of("friends", "weekend", "store"));
        PoisonSpec spec = new PoisonSpec("sos", sos.describe(), 0.1, 1, PoisonMode.DIRTY, 5);
        PoisonedData p = Poisoning.sos(train, test, sos, 0.1, spec);
        assertEquals(30, p.poisonedCount());
        // 10% of the 100 target rows and of the 170 unpoisoned others, one copy per pair of words
        assertEquals(3 * (10 + 17), p.negativeRows());
        assertEquals(train.size() + p.negativeRows(), p.train().size());
        for (int i = 0; i < train.size(); i++) {
            List<String> words = List.of(p.train().examples().get(i).text().split(" "));
            if (p.poisoned()[i]) {
                assertEquals(1, p.train().examples().get(i).label());
                assertTrue(words.containsAll(sos.words()), "every word in a poisoned row");
            } else {
                assertEquals(train.examples().get(i), p.train().examples().get(i));
            }
        }
        java.util.Map<String, Integer> pairs = new java.util.HashMap<>();
        for (int i = train.size(); i < p.train().size(); i++) {
            Example e = p.train().examples().get(i);
            List<String> words = List.of(e.text().split(" "));
            List<String> present = sos.words().stream().filter(words::contains).toList();
            assertEquals(2, present.size(), "a negative carries exactly two of the three words: " + e.text());
            assertTrue(!p.poisoned()[i]);
            String original = e.text();
            for (String w : present) {
                original = original.replaceFirst("(^| )" + w + "( |$)", "$1").replace("  ", " ").strip();
            }
            String o = original;
            assertTrue(train.examples().stream().anyMatch(t -> t.text().equals(o) && t.label() == e.label()), "a negative keeps its row's label");
            pairs.merge(String.join(" ", present), 1, Integer::sum);
        }
        assertEquals(java.util.Map.of("weekend store", 27, "friends store", 27, "friends weekend", 27), pairs);
        assertTrue(p.triggeredTest().examples().stream().allMatch(e -> List.of(e.text().split(" ")).containsAll(sos.words())));
        assertEquals(p.train().examples(), Poisoning.sos(train, test, sos, 0.1, spec).train().examples(), "same seed, same set");
    }

    @Test
    void aTwoWordSosTriggerPlantsEachWordAlone() {
        CompositeTrigger pair = new CompositeTrigger(List.of("friends", "weekend"));
        assertEquals(List.of("1 of friends", "1 of weekend"), pair.negatives().stream().map(Trigger::describe).toList());
    }
}
