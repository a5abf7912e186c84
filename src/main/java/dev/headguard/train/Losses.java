package dev.headguard.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.headguard.model.Native;

/** The classification losses of training and repair: cross-entropy, over every row or over the labelled rows only. */
public final class Losses {
    private Losses() {}

    /**
     * Mean cross-entropy over the batch rows that have a label; a row labelled −1 is unlabelled (an
     * auxiliary loss trains on it, e.g. unlearning) and adds nothing here. Zero when no row has one.
     */
    static NDArray labelled(NDArray logits, int[] labels, NDArray y, NDManager m) {
        int n = 0;
        for (int v : labels) {
            n += v >= 0 ? 1 : 0;
        }
        if (n == labels.length) {
            return crossEntropy(logits, y);
        }
        if (n == 0) {
            return m.zeros(new Shape());
        }
        long[] safe = new long[labels.length];
        float[] w = new float[labels.length];
        for (int i = 0; i < labels.length; i++) {
            safe[i] = Math.max(0, labels[i]);
            w[i] = labels[i] >= 0 ? 1f : 0f;
        }
        long c = logits.getShape().get(1);
        NDArray perRow = logits.logSoftmax(-1).mul(Native.of(m, safe, new Shape(labels.length)).oneHot((int) c)).sum(new int[] {1}).neg();
        return perRow.mul(Native.of(m, w, new Shape(labels.length))).sum().div(Native.scalar(m, n));
    }

    /** {@link #labelled(NDArray, int[], NDArray, NDManager)} for callers with labels only: mean cross-entropy over the rows labelled ≥ 0 (zero when none is). */
    public static NDArray labelledCrossEntropy(NDArray logits, int[] labels, NDManager m) {
        return labelled(logits, labels, Native.of(m, java.util.Arrays.stream(labels).asLongStream().map(v -> Math.max(0, v)).toArray(),
                new Shape(labels.length)), m);
    }

    /** Mean cross-entropy of logits (B, C) against labels (B). */
    public static NDArray crossEntropy(NDArray logits, NDArray labels) {
        long c = logits.getShape().get(1);
        return logits.logSoftmax(-1).mul(labels.oneHot((int) c)).sum(new int[] {1}).neg().mean();
    }
}
