package dev.headguard.detect.search;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.headguard.model.BertKeys;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What words put at the start of a few clean prompts do to a decoder's next token after the prompt.
 * A candidate's <em>rise</em> at token v is min over the prompts of log p(v | candidate, prompt) −
 * log p(v | prompt): positive only when the candidate raises v after every prompt, which a backdoor's
 * trigger does for its target's first token and an ordinary word, far from the prompt's end, does not.
 * The minimum, not the mean, so that one prompt that happens to lead to v cannot carry a word.
 */
final class NextTokenScreen {
    /** Tokens per forward pass. */
    static final int TOKENS_PER_BATCH = 2048;

    private final ModelStore.LoadedModel m;
    private final List<long[]> prompts;
    private final NDManager root;
    private final float[][] before;
    private final int at;

    /** @param prompts token ids, special tokens included; candidates go right after the leading specials */
    NextTokenScreen(ModelStore.LoadedModel m, List<long[]> prompts, NDManager root) {
        this.m = m;
        this.prompts = prompts;
        this.root = root;
        this.at = m.tokenizer().leadingSpecials();
        this.before = new float[prompts.size()][];
        for (int p = 0; p < prompts.size(); p++) {
            try (NDManager b = root.newSubManager()) {
                long[] ids = prompts.get(p);
                before[p] = nextTokenLogProbs(b.create(ids, new Shape(1, ids.length))).toFloatArray();
            }
        }
    }

    int promptCount() {
        return prompts.size();
    }

    int vocabularySize() {
        return before[0].length;
    }

    /** Each candidate's largest rise over the tokens other than its own, and that token. */
    /**
     * Each candidate's largest rise over the tokens other than its own, that token, and its shift: the
     * total variation ½ Σ_v |p(v | candidate, prompt) − p(v | prompt)| averaged over the prompts, which
     * sees a trigger that moves the continuation everywhere without raising one token after every
     * prompt (a style's words).
     */
    record Raised(double[] rise, int[] token, double[] shift) {}

    /** {@link Raised} for every candidate (all of one length), over the first {@code promptCount} prompts. */
    Raised raised(List<long[]> candidates, int promptCount) {
        int n = candidates.size();
        double[] rise = new double[n];
        int[] token = new int[n];
        double[] shift = new double[n];
        forEachBatch(candidates, promptCount, true, (from, rows, tv) -> {
            int v = vocabularySize();
            for (int i = 0; i < rows.length / v; i++) {
                int off = i * v;
                for (long own : candidates.get(from + i)) {
                    rows[off + (int) own] = Float.NEGATIVE_INFINITY;
                }
                int best = 0;
                for (int t = 1; t < v; t++) {
                    if (rows[off + t] > rows[off + best]) {
                        best = t;
                    }
                }
                rise[from + i] = rows[off + best];
                token[from + i] = best;
                shift[from + i] = tv[i];
            }
        });
        return new Raised(rise, token, shift);
    }

    /** Each candidate's rise at one token, over every prompt. */
    double[] riseAt(List<long[]> candidates, int target) {
        return riseAt(candidates, target, prompts.size());
    }

    /** Each candidate's rise at one token, over the first {@code promptCount} prompts. */
    double[] riseAt(List<long[]> candidates, int target, int promptCount) {
        double[] rise = new double[candidates.size()];
        int v = vocabularySize();
        forEachBatch(candidates, promptCount, false, (from, rows, tv) -> {
            for (int i = 0; i < rows.length / v; i++) {
                rise[from + i] = rows[i * v + target];
            }
        });
        return rise;
    }

    private interface Rows {
        /**
         * @param rows  the candidates {@code from..} their min-over-prompts log-ratio rows, flattened (count × V)
         * @param shift their total variation, averaged over the prompts (null when not asked for)
         */
        void accept(int from, float[] rows, float[] shift);
    }

    private void forEachBatch(List<long[]> candidates, int promptCount, boolean withShift, Rows sink) {
        int longest = prompts.subList(0, promptCount).stream().mapToInt(p -> p.length).max().orElse(0);
        for (int from = 0; from < candidates.size(); ) {
            int len = candidates.get(from).length;
            int batch = Math.max(1, TOKENS_PER_BATCH / (longest + len));
            int to = from;
            while (to < candidates.size() && to - from < batch && candidates.get(to).length == len) {
                to++;
            }
            try (NDManager b = root.newSubManager()) {
                NDArray least = null;
                NDArray tv = null;
                for (int p = 0; p < promptCount; p++) {
                    NDArray after = nextTokenLogProbs(b.create(withCandidates(prompts.get(p), candidates.subList(from, to)),
                            new Shape(to - from, prompts.get(p).length + len)));
                    NDArray clean = b.create(before[p], new Shape(1, before[p].length));
                    NDArray ratio = after.sub(clean);
                    least = least == null ? ratio : least.minimum(ratio);
                    if (withShift) {
                        NDArray shift = after.exp().sub(clean.exp()).abs().sum(new int[] {1}).mul(0.5f / promptCount);
                        tv = tv == null ? shift : tv.add(shift);
                    }
                }
                sink.accept(from, least.toFloatArray(), withShift ? tv.toFloatArray() : null);
            }
            from = to;
        }
    }

    /** Rows of the prompt with each candidate put after its leading special tokens. */
    private long[] withCandidates(long[] prompt, List<long[]> candidates) {
        int c = candidates.get(0).length;
        int len = prompt.length + c;
        long[] ids = new long[candidates.size() * len];
        for (int i = 0; i < candidates.size(); i++) {
            int row = i * len;
            System.arraycopy(prompt, 0, ids, row, at);
            System.arraycopy(candidates.get(i), 0, ids, row + at, c);
            System.arraycopy(prompt, at, ids, row + at + c, prompt.length - at);
        }
        return ids;
    }

    /** log p(next token) after each row of {@code ids} (B, T), as (B, V). */
    private NDArray nextTokenLogProbs(NDArray ids) {
        return nextTokenLogProbs(null, ids);
    }

    /** The same with the looked-up word vectors given (B, T, W), or null to look them up. */
    private NDArray nextTokenLogProbs(NDArray wordVectors, NDArray ids) {
        long t = ids.getShape().get(1);
        NDArray mask = ids.onesLike().toType(DataType.INT64, false);
        NDArray h = (wordVectors == null ? m.model().forward(ids, mask, null, ForwardOptions.INFERENCE)
                : m.model().forwardWordVectors(wordVectors, ids, mask, null, ForwardOptions.INFERENCE)).lastHiddenState().get(":, " + (t - 1) + ", :");
        return m.model().lmLogits(h).logSoftmax(-1);
    }

    /**
     * Words that would raise {@code target} most beside each word, to first order: the gradient of
     * Σ_prompts log p(target) at a slot put before (or after) the word, holding the mean word embedding
     * (no word in particular: a real word's own pull would bend the ranking toward its neighbours),
     * dotted with every vocabulary direction ({@link Gradients#dotWithVocabulary}). A composite trigger's
     * second word may raise nothing alone, yet the gradient beside the first points at it; the
     * ranking is checked by {@link #riseAt}, never trusted.
     *
     * @param allowed the tokens a partner may be
     * @return for each word, {@code count} partners before it and then {@code count} after it, as ordered pairs
     */
    List<long[]> partners(List<Long> words, int target, int[] allowed, int count) {
        List<long[]> out = new ArrayList<>();
        NDArray emb = m.model().parameters().get(BertKeys.WORD_EMBEDDINGS);
        int width = (int) emb.getShape().get(1);
        float[] mean;
        try (NDScope scope = new NDScope()) {
            mean = emb.mean(new int[] {0}).toFloatArray();
        }
        float[] notAllowed = new float[vocabularySize()];
        Arrays.fill(notAllowed, Float.NEGATIVE_INFINITY);
        for (int a : allowed) {
            notAllowed[a] = 0;
        }
        int longest = prompts.stream().mapToInt(p -> p.length).max().orElse(0);
        int batch = Math.max(1, TOKENS_PER_BATCH / (longest + 2));
        for (boolean partnerFirst : new boolean[] {true, false}) {
            // The slot's id only marks it as a real token; its vector is the mean embedding, set below.
            List<long[]> slots = words.stream().map(w -> new long[] {w, w}).toList();
            int slot = at + (partnerFirst ? 0 : 1);
            for (int from = 0; from < words.size(); from += batch) {
                int to = Math.min(words.size(), from + batch);
                try (NDScope scope = new NDScope(); NDManager b = root.newSubManager()) {
                    NDArray g = null;
                    for (long[] prompt : prompts) {
                        NDArray x = b.create(withCandidates(prompt, slots.subList(from, to)), new Shape(to - from, prompt.length + 2));
                        // A leaf of the looked-up rows, so that a tied LM head's use of the same matrix stays out of the gradient.
                        NDArray looked = ai.djl.nn.core.Embedding.embedding(x, emb, ai.djl.ndarray.types.SparseFormat.DENSE).singletonOrThrow();
                        float[] rows = looked.toFloatArray();
                        for (int i = 0; i < to - from; i++) {
                            System.arraycopy(mean, 0, rows, (i * (prompt.length + 2) + slot) * width, width);
                        }
                        NDArray vectors = b.create(rows, looked.getShape());
                        vectors.setRequiresGradient(true);
                        try (GradientCollector gc = TorchRuntime.engine().newGradientCollector()) {
                            gc.backward(nextTokenLogProbs(vectors, x).get(":, " + target).sum());
                        }
                        NDArray atSlot = vectors.getGradient().get(":, " + slot + ", :");
                        g = g == null ? atSlot : g.add(atSlot);
                    }
                    // Each word's best partners among the allowed tokens, itself left out (count + 1, then dropped).
                    NDArray gains = Gradients.dotWithVocabulary(m.model(), g).add(b.create(notAllowed));       // (B, V)
                    long[] ids = gains.topK(count + 1, 1, true, true).get(1).toLongArray();
                    for (int i = 0; i < to - from; i++) {
                        long word = words.get(from + i);
                        Arrays.stream(ids, i * (count + 1), (i + 1) * (count + 1)).filter(p -> p != word).limit(count)
                                .forEach(p -> out.add(partnerFirst ? new long[] {p, word} : new long[] {word, p}));
                    }
                }
            }
        }
        return out;
    }
}
