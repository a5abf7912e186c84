package dev.headguard.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Arrays that autograd may keep, allocated by PyTorch itself.
 *
 * <p>Why this exists: DJL's {@code manager.create(...)} wraps a Java direct buffer without
 * copying ({@code torch::from_blob}), and its scalar arithmetic ({@code x.mul(0.5f)},
 * {@code x.div(n)}, {@code x.add(1f)}, ...) builds such a scalar and closes it at once. Closing frees
 * nothing in PyTorch — the autograd graph still holds the tensor for the backward pass — but it
 * drops Java's reference to the buffer, which the garbage collector may then free and malloc hand
 * out again before backward runs. Backward then reads whatever lies there: a NaN or absurd
 * gradient with a perfectly finite loss, at a step that depends on when the GC ran. (That is the
 * "NaN gradients at a fixed step, cause not found" of DJL-NOTES, and the intermittent suite
 * failure; a test that forces a GC between forward and backward reproduced it at step 2.)
 * So every constant that takes part in a differentiable computation is made here, in memory
 * PyTorch owns, and lives as long as the graph needs it whatever happens to its Java handle.
 */
public final class Native {
    private Native() {}

    /**
     * Whether autograd records operations now (inside a gradient collector). A tensor's own
     * {@code hasGradient()} is not the test: it read false for a product of trainable weights while
     * a collector recorded it, and an in-place write then broke the backward pass.
     */
    public static boolean recording() {
        return ai.djl.pytorch.jni.JniUtils.isGradMode();
    }

    /** A 0-d float32 array holding {@code v}. */
    public static NDArray scalar(NDManager m, double v) {
        return m.full(new Shape(), (float) v, DataType.FLOAT32);
    }

    /** A copy of Java floats in PyTorch-owned memory. */
    public static NDArray of(NDManager m, float[] values, Shape shape) {
        try (NDArray view = m.create(values, shape)) {
            return view.duplicate();
        }
    }

    /** A copy of Java longs in PyTorch-owned memory. */
    public static NDArray of(NDManager m, long[] values, Shape shape) {
        try (NDArray view = m.create(values, shape)) {
            return view.duplicate();
        }
    }
}
