package dev.headguard.detect.attention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.headguard.inference.BatchRunner;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.io.ModelStore;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How alike each layer's heads attend over a few sentences, averaged over them ({@link HeadSimilarity}
 * per sentence): the quick look of {@code headguard heads}, and the baseline later scans compare
 * triggered inputs against.
 *
 * @param headSimilarity each head's mean cosine to the other heads of its layer
 * @param minPair        the least alike pair of heads
 * @param maxPair        the most alike pair of heads, {@code maxPairHeads}
 */
public record LayerSimilarity(int layer, double[] headSimilarity, double minPair, double maxPair, int[] maxPairHeads) {
    public double mean() {
        return Arrays.stream(headSimilarity).average().orElse(0);
    }

    /** One summary per layer over {@code sentences}. */
    public static List<LayerSimilarity> of(ModelStore.LoadedModel m, List<String> sentences, NDManager root) {
        int layers = m.model().config().numHiddenLayers();
        int heads = m.model().config().numAttentionHeads();
        double[][] headSim = new double[layers][heads]; // summed over sentences
        double[][] pair = new double[layers][heads * heads];
        new BatchRunner(m, root, 16).run(sentences, ForwardOptions.INFERENCE.withAttentions(), true, (rows, tokens, in, out) -> {
            for (int l = 0; l < layers; l++) {
                NDArray cos = HeadSimilarity.pairwiseCosine(out.attentions().get(l)); // (B, N, N)
                float[] perHead = HeadSimilarity.meanToOthers(cos).sum(new int[] {0}).toFloatArray();
                float[] p = cos.sum(new int[] {0}).toFloatArray();
                for (int h = 0; h < heads; h++) {
                    headSim[l][h] += perHead[h];
                }
                for (int k = 0; k < p.length; k++) {
                    pair[l][k] += p[k];
                }
            }
        });
        int n = sentences.size();
        List<LayerSimilarity> out = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            double min = Double.MAX_VALUE;
            double max = -Double.MAX_VALUE;
            int[] argMax = new int[2];
            for (int i = 0; i < heads; i++) {
                headSim[l][i] /= n;
                for (int j = i + 1; j < heads; j++) {
                    double v = pair[l][i * heads + j] / n;
                    min = Math.min(min, v);
                    if (v > max) {
                        max = v;
                        argMax = new int[] {i, j};
                    }
                }
            }
            out.add(new LayerSimilarity(l, headSim[l], min, max, argMax));
        }
        return out;
    }
}
