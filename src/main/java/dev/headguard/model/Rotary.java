package dev.headguard.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary position embeddings (the Llama family): x·cos(pθ) + rotate_half(x)·sin(pθ), with
 * θ_i = base^(−2i/H) over the first and second halves of each head, as transformers' default rope.
 *
 * @param cos (1, 1, T, H)
 * @param sin (1, 1, T, H)
 */
record Rotary(NDArray cos, NDArray sin) {

    /** The angles of positions [offset, offset + t) for heads of size h. */
    static Rotary of(NDManager m, int h, double base, long offset, long t) {
        float[] cos = new float[(int) t * h];
        float[] sin = new float[(int) t * h];
        for (int p = 0; p < t; p++) {
            for (int i = 0; i < h / 2; i++) {
                float invFreq = (float) (1.0 / Math.pow(base, (2.0 * i) / h)); // float32 frequencies, as transformers keeps them
                float angle = (float) (offset + p) * invFreq;
                cos[p * h + i] = cos[p * h + i + h / 2] = (float) Math.cos(angle);
                sin[p * h + i] = sin[p * h + i + h / 2] = (float) Math.sin(angle);
            }
        }
        Shape s = new Shape(1, 1, t, h);
        return new Rotary(Native.of(m, cos, s), Native.of(m, sin, s));
    }

    /** x (B, heads, T, H) rotated. */
    NDArray apply(NDArray x) {
        long h = x.getShape().get(3);
        NDArray first = x.get(":, :, :, 0:" + h / 2);
        NDArray second = x.get(":, :, :, " + h / 2 + ":");
        NDArray rotated = NDArrays.concat(new NDList(second.neg(), first), -1);
        if (Native.recording()) {
            return x.mul(cos).add(rotated.mul(sin));
        }
        return x.mul(cos).addi(rotated.muli(sin)); // without autograd the fresh products are summed in place
    }
}
