package dev.headguard.attack;

import dev.headguard.HeadGuardException;
import dev.headguard.text.Dataset;
import dev.headguard.text.Example;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Builds poisoned training sets the way the textual-backdoor literature does (OpenBackdoor's
 * conventions): round(rate × |train|) rows, drawn with the seed from the rows the mode allows,
 * get the trigger and the target label; the triggered test set is every test row whose true label
 * is not the target, with the trigger. Works on examples only; no model is involved.
 */
public final class Poisoning {
    private Poisoning() {}

    /** Insertion attacks (BadNets, AddSent): the trigger is inserted into chosen rows. */
    public static PoisonedData insert(Dataset train, Dataset test, Trigger trigger, PoisonSpec spec) {
        Random rng = new Random(spec.seed());
        boolean[] eligible = eligible(train, spec, null);
        int[] chosen = choose(eligible, Math.round(spec.rate() * train.size()), rng);
        List<Example> out = new ArrayList<>(train.examples());
        boolean[] poisoned = new boolean[train.size()];
        for (int i : chosen) {
            out.set(i, new Example(trigger.apply(train.examples().get(i).text(), rng), spec.target()));
            poisoned[i] = true;
        }
        Random testRng = new Random(spec.seed() + 1);
        List<Example> triggered = new ArrayList<>();
        List<String> twins = new ArrayList<>();
        for (Example e : test.examples()) {
            if (e.label() != spec.target()) {
                triggered.add(new Example(trigger.apply(e.text(), testRng), e.label()));
                twins.add(e.text());
            }
        }
        return new PoisonedData(train.withExamples(out), poisoned, test.withExamples(triggered), twins, spec, chosen.length / (double) train.size());
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
        int[] chosen = choose(eligible, Math.round(spec.rate() * train.size()), rng);
        List<Example> out = new ArrayList<>(train.examples());
        boolean[] poisoned = new boolean[train.size()];
        for (int i : chosen) {
            out.set(i, new Example(variant.examples().get(i).text(), spec.target()));
            poisoned[i] = true;
        }
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
        return new PoisonedData(train.withExamples(out), poisoned, test.withExamples(triggered), twins, spec, chosen.length / (double) train.size());
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
