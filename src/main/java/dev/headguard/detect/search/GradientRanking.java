package dev.headguard.detect.search;

import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.TextTokenizer;
import dev.headguard.text.TokenBatch;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;

/**
 * The model scan's first-order ranking of the vocabulary: the gradient of the loss toward a class at
 * a placeholder token in each victim, dotted with every word's embedding, at the start and at random
 * positions (triggers work anywhere; one position alone ranks them less reliably).
 */
final class GradientRanking {
    private GradientRanking() {}

    /**
     * @param signed the whole words, steepest descent of the loss toward the class first (most negative E·g)
     * @param pool   the words to screen: alternately from the signed ranking and by largest |E·g|
     */
    record Ranking(List<Integer> signed, List<Integer> pool) {}

    static Ranking rank(ModelStore.LoadedModel model, List<String> victims, long placeholder, List<Integer> wholeWords, int vocabSize, int target,
                        int screened, long seed, NDManager root) {
        float[] dot = new float[vocabSize];
        for (boolean atStart : new boolean[] {true, false}) {
            TokenBatch batch = withPlaceholder(model, victims, placeholder, seed, atStart);
            float[] g = Gradients.embeddingRow(model.model(), batch, placeholder, logits -> Gradients.towardClass(logits, target), root);
            float[] d = Gradients.dotWithVocabulary(model.model(), g, root);
            double norm = 1e-12;
            for (float x : g) {
                norm += x * x;
            }
            for (int v = 0; v < dot.length && v < d.length; v++) {
                dot[v] += (float) (d[v] / Math.sqrt(norm));
            }
        }
        List<Integer> ranked = new ArrayList<>(wholeWords);
        ranked.sort(Comparator.comparingDouble(v -> dot[v]));
        // The sign of a first-order estimate is only as good as the linearisation: a trigger that works
        // through attention can sit at either end of the signed ranking. So half the screening budget
        // goes to the steepest descent, half to the largest |E·g|; the screen measures the real effect.
        List<Integer> byMagnitude = new ArrayList<>(ranked);
        byMagnitude.sort(Comparator.comparingDouble(v -> -Math.abs(dot[v])));
        LinkedHashSet<Integer> pool = new LinkedHashSet<>();
        for (int k = 0; pool.size() < Math.min(screened, ranked.size()); k++) {
            pool.add(ranked.get(k));
            if (pool.size() < screened) {
                pool.add(byMagnitude.get(k));
            }
        }
        return new Ranking(ranked, new ArrayList<>(pool));
    }

    /** Victims' token ids with the placeholder first (after [CLS] or &lt;s&gt;), or at a random position before [SEP]. */
    static TokenBatch withPlaceholder(ModelStore.LoadedModel model, List<String> victims, long placeholder, long seed, boolean atStart) {
        Random r = new Random(seed);
        List<long[]> seqs = new ArrayList<>();
        int max = model.tokenizer().maxLength();
        int lead = model.tokenizer().leadingSpecials();
        long[] tail = model.tokenizer().trailingSpecials();
        for (String v : victims) {
            long[] ids = model.tokenizer().ids(v);
            if (ids.length >= max) {
                ids = java.util.Arrays.copyOf(ids, max - 1);
                System.arraycopy(tail, 0, ids, ids.length - tail.length, tail.length); // keep [SEP] (or </s>) last
            }
            int at = atStart ? lead : lead + r.nextInt(ids.length - lead - tail.length + 1);
            seqs.add(VocabularySweep.withToken(ids, at, placeholder));
        }
        return TokenBatch.of(seqs, model.tokenizer().padId());
    }

    /** [MASK] when the vocabulary has it (a token real text never carries), else [UNK]. */
    static long placeholderId(ModelStore.LoadedModel model, String[] vocab) {
        for (String name : List.of("[MASK]", "<mask>", "[UNK]", "<unk>")) {
            int v = TextTokenizer.idIn(vocab, name);
            if (v >= 0) {
                return v;
            }
        }
        throw new HeadGuardException(model.tokenizer().file() + ": no [MASK] or [UNK] token to use as a placeholder");
    }
}
