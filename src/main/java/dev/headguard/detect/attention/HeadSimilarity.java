package dev.headguard.detect.attention;

import ai.djl.ndarray.NDArray;

/**
 * How alike the heads of one layer attend. A head's attention map over the real tokens of an
 * input (T×T, padding zeroed) is flattened to a vector; two heads' similarity is the cosine of
 * their vectors. In a backdoored model the heads of some layers converge when the trigger is
 * present, which shows up as a jump in these similarities.
 */
public final class HeadSimilarity {
    private HeadSimilarity() {}

    /**
     * Cosine similarity between every pair of heads.
     *
     * @param attention (B, N, T, T) attention probabilities with padding rows and columns zero
     * @return (B, N, N), 1 on the diagonal
     */
    public static NDArray pairwiseCosine(NDArray attention) {
        long b = attention.getShape().get(0);
        long n = attention.getShape().get(1);
        NDArray flat = attention.reshape(b, n, -1).normalize(2, 2);  // (B, N, T·T), unit rows
        return flat.matMul(flat.transpose(0, 2, 1));                   // (B, N, N)
    }

    /**
     * Mean similarity of each head to the other heads of its layer.
     *
     * @param cosine (B, N, N) from {@link #pairwiseCosine}
     * @return (B, N)
     */
    public static NDArray meanToOthers(NDArray cosine) {
        long n = cosine.getShape().get(1);
        return cosine.sum(new int[] {2}).sub(1f).div(n - 1f); // drop the diagonal's 1
    }

    /**
     * Mean pairwise similarity of a layer's heads: the layer-level signal.
     *
     * @param cosine (B, N, N)
     * @return (B)
     */
    public static NDArray layerMean(NDArray cosine) {
        return meanToOthers(cosine).mean(new int[] {1});
    }
}
