package dev.headguard.detect.attention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.headguard.inference.BatchRunner;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.io.ModelStore;

import java.util.ArrayList;
import java.util.List;

/**
 * What a person looks at in a report: the head-to-head similarity matrices of every layer averaged
 * over a set of texts, and, for one text, how much chosen heads attend to each of its tokens.
 */
public final class HeadMaps {
    private HeadMaps() {}

    /** Mean over texts of the (N, N) cosine matrix of each layer: [layer][head][head]. */
    public static double[][][] meanPairwise(ModelStore.LoadedModel model, List<String> texts, NDManager root) {
        int layers = model.model().config().numHiddenLayers();
        int heads = model.model().config().numAttentionHeads();
        double[][][] sum = new double[layers][heads][heads];
        if (texts.isEmpty()) {
            return sum;
        }
        new BatchRunner(model, root, 32).run(texts, ForwardOptions.INFERENCE.withAttentions(), true, (rows, tokens, in, out) -> {
            for (int l = 0; l < layers; l++) {
                float[] c = HeadSimilarity.pairwiseCosine(out.attentions().get(l)).sum(new int[] {0}).toFloatArray();
                for (int i = 0; i < heads; i++) {
                    for (int j = 0; j < heads; j++) {
                        sum[l][i][j] += c[i * heads + j] / texts.size();
                    }
                }
            }
        });
        return sum;
    }

    /** A text's tokens and the attention they receive from the chosen heads. */
    public record TokenFocus(String text, List<String> tokens, double[] weight) {}

    /**
     * Attention each token receives from the [CLS] row of the given heads, averaged over them and
     * scaled so that the most attended token has weight 1 ([CLS] and [SEP] left out of the scale).
     *
     * @param heads (layer, head) pairs
     */
    public static TokenFocus focus(ModelStore.LoadedModel model, String text, List<int[]> heads, NDManager root) {
        List<String> tokens = model.tokenizer().tokens(text);
        double[] w = new double[tokens.size()];
        new BatchRunner(model, root, 1).run(List.of(text), ForwardOptions.INFERENCE.withAttentions(), false, (rows, tb, in, out) -> {
            for (int[] lh : heads) {
                NDArray row = out.attentions().get(lh[0]).get("0, " + lh[1] + ", 0, :");
                float[] a = row.toFloatArray();
                for (int k = 0; k < w.length && k < a.length; k++) {
                    w[k] += a[k] / heads.size();
                }
            }
        });
        double max = 1e-12;
        for (int k = 1; k < w.length - 1; k++) {
            max = Math.max(max, w[k]);
        }
        for (int k = 0; k < w.length; k++) {
            w[k] = Math.min(1, w[k] / max);
        }
        return new TokenFocus(text, new ArrayList<>(tokens), w);
    }
}
