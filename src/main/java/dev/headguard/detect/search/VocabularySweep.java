package dev.headguard.detect.search;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.TokenBatch;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The model's exact response to every candidate token, where the first-order ranking is blind.
 * Each token is put, as a token id (no text round trip), in front of the shortest victim — a clean
 * input of a couple of words costs a handful of positions, so the whole vocabulary is one forward
 * sweep — and scored by the probability of the class c it gives.
 *
 * <p>Why: a trigger acts through attention (the heads turn to it), which a gradient taken at a
 * placeholder the heads ignore cannot see: the first-order ranking put real triggers thousands of
 * places past what the screen can afford, where the sweep put them first (figures in
 * docs/how-it-works.md, "Evidence behind the code's rules").
 *
 * <p>Why the first word: a trigger that works anywhere works there too, and a learned
 * sentence-opening cue works only there (the SynBkd victim's "when"; negations such as "never"
 * outrank it in the sweep, since they turn a two-word victim around on any model, so
 * {@link UnsupportedFlips} tries the sweep's best common words, and finds it). Why one victim: the sweep is a compute-bound forward pass over the whole
 * vocabulary (about 23,500 words for MiniLM's), and a second victim or a second placement doubled
 * a scan's time past its budget. For the same reason the scan sweeps in two stages (every word
 * alone first, then a shortlist in the victim), which gave the same ranking's top at a fifth of
 * the cost.
 */
final class VocabularySweep {
    private VocabularySweep() {}

    /**
     * @param victims token ids of clean inputs the model does not call {@code c}, [CLS] … [SEP]
     * @param words   the vocabulary ids to try
     * @param count   how many of the shortest victims each token goes in front of (the score is the smallest P(c) over them)
     * @return the words, highest score first, and the scores (same order)
     */
    static Ranking rank(ModelStore.LoadedModel model, List<long[]> victims, List<Integer> words, int c, int count, NDManager root) {
        List<long[]> shortest = new ArrayList<>(victims);
        shortest.sort(Comparator.comparingInt(v -> v.length));
        shortest = shortest.subList(0, Math.min(count, shortest.size()));
        double[] min = new double[words.size()];
        java.util.Arrays.fill(min, 1);
        for (long[] victim : shortest) {
            double[] p = probabilities(model, victim, model.tokenizer().leadingSpecials(), words, c, root); // the first word
            for (int k = 0; k < p.length; k++) {
                min[k] = Math.min(min[k], p[k]);
            }
        }
        Integer[] order = new Integer[words.size()];
        for (int k = 0; k < order.length; k++) {
            order[k] = k;
        }
        java.util.Arrays.sort(order, Comparator.comparingDouble(k -> -min[k]));
        List<Integer> ranked = new ArrayList<>(order.length);
        double[] scores = new double[order.length];
        for (int k = 0; k < order.length; k++) {
            ranked.add(words.get(order[k]));
            scores[k] = min[order[k]];
        }
        return new Ranking(ranked, scores);
    }

    /**
     * The sweep in two stages. First every word alone, [CLS] w [SEP], one pass whose probabilities
     * serve every class ({@link #alone}); then, in the victims as {@link #rank(ModelStore.LoadedModel, List, List, int, int, NDManager)}
     * does, only the {@code shortlisted} words alone most c-ward ({@link #SHORTLIST}) plus the {@code always} words (the
     * common words {@link UnsupportedFlips} draws on). The rest follow in their order alone, with
     * score NaN (not measured in a victim). A trigger that fires in any context fires alone too.
     *
     * @param alone P(class) per word from {@link #alone}, in the order of {@code words}
     */
    static Ranking rank(ModelStore.LoadedModel model, List<long[]> victims, List<Integer> words, int c, int count, float[][] alone,
                        int shortlisted, java.util.Set<Integer> always, NDManager root) {
        Integer[] byAlone = new Integer[words.size()];
        for (int k = 0; k < byAlone.length; k++) {
            byAlone[k] = k;
        }
        java.util.Arrays.sort(byAlone, Comparator.comparingDouble(k -> -alone[k][c]));
        List<Integer> shortlist = new ArrayList<>();
        List<Integer> rest = new ArrayList<>();
        for (int k = 0; k < byAlone.length; k++) {
            int w = words.get(byAlone[k]);
            (k < shortlisted || always.contains(w) ? shortlist : rest).add(w);
        }
        Ranking r = rank(model, victims, shortlist, c, count, root);
        List<Integer> all = new ArrayList<>(r.words());
        all.addAll(rest);
        double[] scores = java.util.Arrays.copyOf(r.scores(), all.size());
        java.util.Arrays.fill(scores, r.scores().length, scores.length, Double.NaN);
        return new Ranking(all, scores);
    }

    /**
     * Words swept in the victims after the pass alone: far more than the places trigger words take
     * alone on the bench victims, at a small share of the vocabulary's cost (docs/results.md).
     */
    static final int SHORTLIST = 2048;

    /** P(class) of each word alone, [CLS] w [SEP] (rows in the order of {@code words}). */
    static float[][] alone(ModelStore.LoadedModel model, List<Integer> words, NDManager root) {
        return inserted(model, model.tokenizer().ids(""), model.tokenizer().leadingSpecials(), words, root);
    }

    /** Words in sweep order and their scores. */
    record Ranking(List<Integer> words, double[] scores) {}

    /**
     * Tokens per forward pass: sequences of one length go this many tokens to a batch, so no padding.
     * Larger batches ran about half as fast on two cores, their activations no longer fitting in
     * cache (docs/results.md).
     */
    static final int TOKENS_PER_BATCH = 2048;

    /** P(c) with each word inserted at position {@code at} of {@code victim}. */
    private static double[] probabilities(ModelStore.LoadedModel model, long[] victim, int at, List<Integer> words, int c, NDManager root) {
        float[][] p = inserted(model, victim, at, words, root);
        double[] out = new double[p.length];
        for (int k = 0; k < p.length; k++) {
            out[k] = p[k][c];
        }
        return out;
    }

    /** The ids with {@code token} inserted at position {@code at}. */
    static long[] withToken(long[] ids, int at, long token) {
        long[] out = new long[ids.length + 1];
        System.arraycopy(ids, 0, out, 0, at);
        out[at] = token;
        System.arraycopy(ids, at, out, at + 1, ids.length - at);
        return out;
    }

    /** P(every class) with each word inserted at position {@code at} of {@code victim} (rows in the order of {@code words}). */
    static float[][] inserted(ModelStore.LoadedModel model, long[] victim, int at, List<Integer> words, NDManager root) {
        int batch = Math.max(1, TOKENS_PER_BATCH / (victim.length + 1));
        float[][] out = new float[words.size()][];
        long pad = model.tokenizer().padId();
        for (int from = 0; from < words.size(); from += batch) {
            int to = Math.min(words.size(), from + batch);
            List<long[]> seqs = new ArrayList<>(to - from);
            for (int k = from; k < to; k++) {
                seqs.add(withToken(victim, at, words.get(k)));
            }
            try (NDScope scope = new NDScope(); NDManager m = root.newSubManager()) {
                TokenBatch.Arrays in = TokenBatch.of(seqs, pad).toArrays(m);
                float[] p = model.model().forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), ForwardOptions.INFERENCE)
                        .logits().softmax(-1).toFloatArray();
                int classes = p.length / seqs.size();
                for (int k = from; k < to; k++) {
                    out[k] = java.util.Arrays.copyOfRange(p, (k - from) * classes, (k - from + 1) * classes);
                }
            }
        }
        return out;
    }
}
