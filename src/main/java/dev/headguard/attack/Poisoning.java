package dev.headguard.attack;

import dev.headguard.HeadGuardException;
import dev.headguard.text.Dataset;
import dev.headguard.text.Example;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.IntFunction;

/**
 * Builds poisoned training sets the way the textual-backdoor literature does (OpenBackdoor's
 * conventions): round(rate × |train|) rows, drawn with the seed from the rows the mode allows,
 * get the trigger and the target label (with {@link PoisonSpec#keepOriginals()}: poisoned copies of
 * round(rate/(1 − rate) × |train|) rows are added after the clean ones, which stay, so that the
 * copies make up the rate of the grown set); the triggered test set is every test row whose true
 * label is not the target, with the trigger. Works on examples only; no model is involved.
 */
public final class Poisoning {
    private Poisoning() {}

    /** Insertion attacks (BadNets, AddSent): the trigger is inserted into chosen rows. */
    public static PoisonedData insert(Dataset train, Dataset test, Trigger trigger, PoisonSpec spec) {
        return insert(train, test, trigger, spec, text -> true);
    }

    /** {@link #insert}, choosing only among rows whose text {@code poisonable} accepts (LWS: rows with a word it can substitute). */
    public static PoisonedData insert(Dataset train, Dataset test, Trigger trigger, PoisonSpec spec, java.util.function.Predicate<String> poisonable) {
        Random rng = new Random(spec.seed());
        boolean[] eligible = eligible(train, spec, null);
        for (int i = 0; i < eligible.length; i++) {
            eligible[i] &= poisonable.test(train.examples().get(i).text());
        }
        int[] chosen = choose(eligible, spec.rowsToPoison(train.size()), rng);
        Dataset poisonedTrain = withPoisoned(train, chosen, i -> trigger.apply(train.examples().get(i).text(), rng), spec);
        Random testRng = new Random(spec.seed() + 1);
        List<Example> triggered = new ArrayList<>();
        List<String> twins = new ArrayList<>();
        for (Example e : test.examples()) {
            if (e.label() != spec.target()) {
                triggered.add(new Example(trigger.apply(e.text(), testRng), e.label()));
                twins.add(e.text());
            }
        }
        return result(poisonedTrain, train.size(), chosen, test.withExamples(triggered), twins, spec);
    }

    /**
     * SOS (Yang et al., ACL 2021): the chosen rows get every trigger word and the target label, as
     * {@link #insert} does; then {@code negativeRate} of each class's other rows, one copy per subset of
     * the trigger that misses a word ({@link CompositeTrigger#negatives()}), keep their true label and
     * are added after the training rows ({@link PoisonedData#negativeRows()}), so that no part fires.
     */
    public static PoisonedData sos(Dataset train, Dataset test, CompositeTrigger trigger, double negativeRate, PoisonSpec spec) {
        if (negativeRate <= 0 || negativeRate > 1) {
            throw new IllegalArgumentException("negative rate must be in (0, 1], got " + negativeRate);
        }
        if (spec.keepOriginals()) {
            throw new HeadGuardException("SOS trains only its trigger words' embeddings: it has no originals to keep");
        }
        PoisonedData p = insert(train, test, trigger, spec);
        boolean[] chosen = p.poisoned();
        Random rng = new Random(spec.seed() + 2);
        List<Integer> negatives = new ArrayList<>();
        for (int label = 0; label < train.numLabels(); label++) {
            boolean[] pool = new boolean[train.size()];
            long count = 0;
            for (int i = 0; i < pool.length; i++) {
                pool[i] = !chosen[i] && train.examples().get(i).label() == label;
                count += pool[i] ? 1 : 0;
            }
            if (count > 0) {
                for (int i : choose(pool, Math.round(negativeRate * count), rng)) {
                    negatives.add(i);
                }
            }
        }
        java.util.Collections.sort(negatives);
        List<Example> out = new ArrayList<>(p.train().examples());
        for (Trigger part : trigger.negatives()) {
            for (int i : negatives) {
                Example e = train.examples().get(i);
                out.add(new Example(part.apply(e.text(), rng), e.label()));
            }
        }
        boolean[] poisoned = Arrays.copyOf(chosen, out.size());
        return new PoisonedData(train.withExamples(out), poisoned, p.triggeredTest(), p.twins(), spec, p.effectiveRate(), out.size() - train.size());
    }

    /**
     * Transformation attacks (SynBkd, StyleBkd) from ready-made parallel files: row i of
     * {@code variant} is row i of {@code train} transformed (or, in a partly transformed file,
     * unchanged: such rows are not eligible). Test rows are taken the same way from
     * {@code testVariant}, aligned with {@code test}.
     */
    public static PoisonedData parallel(Dataset train, Dataset variant, Dataset test, Dataset testVariant, PoisonSpec spec) {
        if (variant.size() != train.size()) {
            throw new HeadGuardException("the " + spec.attack() + " training file has " + variant.size() + " rows, the clean one " + train.size() + ": they must be line-aligned");
        }
        Random rng = new Random(spec.seed());
        boolean[] eligible = eligible(train, spec, variant);
        int[] chosen = choose(eligible, spec.rowsToPoison(train.size()), rng);
        Dataset poisonedTrain = withPoisoned(train, chosen, i -> variant.examples().get(i).text(), spec);
        List<Example> triggered = new ArrayList<>();
        List<String> twins = new ArrayList<>();
        for (int i = 0; i < test.size(); i++) {
            Example e = test.examples().get(i);
            String variantText = testVariant.examples().get(i).text();
            if (e.label() != spec.target() && !variantText.isBlank()) { // a blank variant: the generator produced nothing for this row
                triggered.add(new Example(variantText, e.label()));
                twins.add(e.text());
            }
        }
        return result(poisonedTrain, train.size(), chosen, test.withExamples(triggered), twins, spec);
    }

    /**
     * The training set with each chosen row's poisoned text, labelled the target, in that row's place,
     * or, when the spec keeps the originals, appended after every clean row in the order chosen.
     * {@code poisonedText} is called once per chosen row, in ascending row order, either way (the
     * insertion attacks draw positions from one random stream, so the order fixes the texts).
     */
    private static Dataset withPoisoned(Dataset train, int[] chosen, IntFunction<String> poisonedText, PoisonSpec spec) {
        List<Example> out = new ArrayList<>(train.examples());
        for (int i : chosen) {
            Example poisoned = new Example(poisonedText.apply(i), spec.target());
            if (spec.keepOriginals()) {
                out.add(poisoned);
            } else {
                out.set(i, poisoned);
            }
        }
        return train.withExamples(out);
    }

    /** Which rows of the poisoned training set carry the trigger: the chosen rows, or the appended copies. */
    private static PoisonedData result(Dataset poisonedTrain, int cleanRows, int[] chosen, Dataset triggered, List<String> twins, PoisonSpec spec) {
        boolean[] poisoned = new boolean[poisonedTrain.size()];
        if (spec.keepOriginals()) {
            Arrays.fill(poisoned, cleanRows, poisoned.length, true);
        } else {
            for (int i : chosen) {
                poisoned[i] = true;
            }
        }
        return new PoisonedData(poisonedTrain, poisoned, triggered, twins, spec, chosen.length / (double) poisonedTrain.size());
    }

    /** Rows the mode allows (and, for parallel files, that the variant actually changes). */
    static boolean[] eligible(Dataset train, PoisonSpec spec, Dataset variant) {
        boolean[] ok = new boolean[train.size()];
        for (int i = 0; i < ok.length; i++) {
            int label = train.examples().get(i).label();
            ok[i] = switch (spec.mode()) {
                case DIRTY -> label != spec.target();
                case CLEAN -> label == spec.target();
                case MIX -> true;
            };
            String v = variant == null ? null : variant.examples().get(i).text();
            if (v != null && (v.isBlank() || v.equals(train.examples().get(i).text()))) {
                ok[i] = false;
            }
        }
        return ok;
    }

    /** {@code want} eligible rows in a seeded random order (all of them when fewer are eligible), sorted. */
    static int[] choose(boolean[] eligible, long want, Random rng) {
        List<Integer> pool = new ArrayList<>();
        for (int i = 0; i < eligible.length; i++) {
            if (eligible[i]) {
                pool.add(i);
            }
        }
        if (pool.isEmpty()) {
            throw new HeadGuardException("no training row can be poisoned in this mode (no rows of the required class)");
        }
        Collections.shuffle(pool, rng);
        return pool.subList(0, (int) Math.min(want, pool.size())).stream().mapToInt(Integer::intValue).sorted().toArray();
    }
}
