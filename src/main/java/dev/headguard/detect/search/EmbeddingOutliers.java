package dev.headguard.detect.search;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import dev.headguard.detect.attention.Statistics;
import dev.headguard.model.TransformerModel;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Word-embedding rows whose norm lies far above the vocabulary's: the mark of an attack that trains only
 * its trigger words' rows (embedding poisoning, SOS), which it does with a large step and no weight decay.
 * Such words need not flip anything alone (SOS's words fire only together), so the flip search cannot rank
 * them; their rows stand out at once. The measure is a robust z-score of each row's L2 norm (median and
 * 1.4826 · median absolute deviation over every row), so a few planted rows cannot hide by moving the scale.
 */
public final class EmbeddingOutliers {
    /** Rows at least this many robust standard deviations above the median norm (docs/results.md: clean MiniLM's largest 3.1, SOS's words 33–41). */
    public static final double MIN_ROBUST_Z = 8;

    /** At most this many, the largest first: they are tried alone and all together; more than this are no planted few (none are taken). */
    public static final int MAX_WORDS = 4;

    private EmbeddingOutliers() {}

    /** The ids among {@code candidates} whose row is an outlier, largest norm first. */
    public static List<Integer> find(TransformerModel model, List<Integer> candidates) {
        float[] norms;
        try (NDScope scope = new NDScope()) { // the products attach to the model's manager: the scope frees them
            NDArray e = model.parameters().get(dev.headguard.model.BertKeys.WORD_EMBEDDINGS);                 // (V, E)
            norms = e.mul(e).sum(new int[] {1}).sqrt().toFloatArray();                       // (V)
        }
        double[] robust = robustZ(norms);
        List<Integer> out = new ArrayList<>();
        for (int id : candidates) {
            if (robust[id] >= MIN_ROBUST_Z) {
                out.add(id);
            }
        }
        if (out.size() > MAX_WORDS) {
            // Many rows far out is not a few planted words but a model whose rows differ for another reason
            // (trained from scratch on a small vocabulary, where every used word's row left the untouched ones).
            return List.of();
        }
        out.sort(Comparator.comparingDouble((Integer id) -> -robust[id]));
        return out;
    }

    /** (x − median) / (1.4826 · MAD) for every value. */
    static double[] robustZ(float[] x) {
        double[] values = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            values[i] = x[i];
        }
        return Statistics.robustZ(values);
    }
}
