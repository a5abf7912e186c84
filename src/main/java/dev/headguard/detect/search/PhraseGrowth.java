package dev.headguard.detect.search;

import ai.djl.ndarray.NDManager;
import dev.headguard.detect.attention.Probe;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Dataset;
import dev.headguard.text.Insertion;
import dev.headguard.text.Sample;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import java.util.stream.IntStream;

/**
 * A word grown, one word at a time on either side, into the phrase the model reads as its trigger.
 *
 * <p>Why: a trigger sentence of common words ("I watched this at a film festival") keeps firing after
 * the repair unlearns its rarest word, through the other words together; each of them does nothing
 * alone, so no word search finds them, but beside a word of the sentence each raises the target's
 * log-odds far more than it does alone. Each step adds the clean set's frequent word that raises the
 * log-odds most beside the phrase so far, less what it adds alone where that is toward the target
 * (a word leaning away would otherwise gain what the trigger overrides). The phrases it passes
 * through are the carriers a repair needs (docs/results.md, session 34).
 */
public final class PhraseGrowth {
    private PhraseGrowth() {}

    /**
     * @param victims  clean inputs of other classes the phrases are scored on (a seeded sample)
     * @param words    the clean set's most frequent words tried (each used in {@link UnsupportedFlips#MIN_OCCURRENCES} texts or more)
     * @param minGain  a step must raise the mean log-odds by this much
     * @param maxSteps at most this many words added
     */
    public record Settings(int victims, int words, double minGain, int maxSteps, long seed) {
        public static Settings defaults(long seed) {
            return new Settings(16, 100, 0.2, 5, seed);
        }
    }

    /**
     * @param word  the word grown
     * @param steps the phrases the growth passed through, one word longer each, the last the whole phrase
     */
    public record Grown(String word, List<String> steps) {
        public Grown {
            steps = List.copyOf(steps);
        }
    }

    /** Grows {@code word} toward {@code target} on the clean inputs of other classes. */
    public static Grown grow(ModelStore.LoadedModel model, Dataset clean, String word, int target, Settings s, NDManager root) {
        return grow(texts -> Probe.probabilities(model, texts, root, 64, Probe.Progress.NONE), clean, word, target, s);
    }

    /** The rule on any classifier: {@code classify} gives each text's class probabilities. */
    static Grown grow(Function<List<String>, float[][]> classify, Dataset clean, String word, int target, Settings s) {
        List<String> others = IntStream.range(0, clean.size()).filter(i -> clean.labels()[i] != target).mapToObj(clean.texts()::get).toList();
        List<String> victims = Sample.of(others, s.victims(), s.seed());
        List<String> pool = frequentWords(clean, s.words());
        if (victims.isEmpty() || pool.isEmpty()) {
            return new Grown(word, List.of());
        }
        List<String> texts = new ArrayList<>(victims);
        texts.addAll(Insertion.insertAll(victims, word, s.seed()));
        for (String w : pool) {
            texts.addAll(Insertion.insertAll(victims, w, s.seed()));
        }
        float[][] p = classify.apply(texts);
        int n = victims.size();
        double base = TriggerContext.meanLogOdds(p, 0, n, target);
        double current = TriggerContext.meanLogOdds(p, n, n, target);
        double[] ownToward = new double[pool.size()];
        for (int j = 0; j < pool.size(); j++) {
            ownToward[j] = Math.max(0, TriggerContext.meanLogOdds(p, (2 + j) * n, n, target) - base);
        }
        String phrase = word;
        List<String> steps = new ArrayList<>();
        for (int step = 0; step < s.maxSteps(); step++) {
            List<String> inPhrase = Arrays.asList(phrase.split(" "));
            List<Integer> tried = IntStream.range(0, pool.size()).filter(j -> !inPhrase.contains(pool.get(j))).boxed().toList();
            List<String> candidates = new ArrayList<>();
            List<String> batch = new ArrayList<>();
            for (int j : tried) {
                for (String c : List.of(pool.get(j) + " " + phrase, phrase + " " + pool.get(j))) {
                    candidates.add(c);
                    batch.addAll(Insertion.insertAll(victims, c, s.seed()));
                }
            }
            float[][] q = classify.apply(batch);
            int best = -1;
            double bestGain = s.minGain();
            for (int k = 0; k < candidates.size(); k++) {
                double gain = TriggerContext.meanLogOdds(q, k * n, n, target) - current - ownToward[tried.get(k / 2)];
                if (gain > bestGain) {
                    best = k;
                    bestGain = gain;
                }
            }
            if (best < 0) {
                break;
            }
            phrase = candidates.get(best);
            current = TriggerContext.meanLogOdds(q, best * n, n, target);
            steps.add(phrase);
        }
        return new Grown(word, steps);
    }

    /** The clean texts' {@code n} most frequent words (each used in at least {@link UnsupportedFlips#MIN_OCCURRENCES} texts), any lean. */
    static List<String> frequentWords(Dataset clean, int n) {
        return TriggerContext.frequentWords(clean, n, Double.POSITIVE_INFINITY, null);
    }
}
