package dev.headguard.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * The real tokens of a padded batch as rows of their own. A layer's per-token work (its projections,
 * norms and feed-forward) then runs on real tokens only, and attention, which reads tokens together,
 * on the padded layout: in a batch padded to its longest text much of the matrix work is padding
 * (half of SST-2's tokens in batches of 32 in file order).
 *
 * <p>Only for inference: what a real token computes does not depend on padding (masked keys get
 * exactly zero attention), so real tokens get the values the padded pass gives; padded positions of
 * unpacked results are zero, where the padded pass computes states nobody reads.
 */
final class Packing {
    private final NDArray rows; // (R) b·T + t of each real token, in order
    private final long batch;
    private final long tokens;
    private NDArray projections; // (B·T, D): every layer's Q/K/V rows in turn; padded rows stay zero

    private Packing(NDArray rows, long batch, long tokens) {
        this.rows = rows;
        this.batch = batch;
        this.tokens = tokens;
    }

    /** The packing of a (B, T) mask of ones and zeros, or null when no position is padding. */
    static Packing of(NDArray mask) {
        Shape s = mask.getShape();
        float[] m = mask.toFloatArray();
        int real = 0;
        for (float v : m) {
            real += v != 0 ? 1 : 0;
        }
        if (real == m.length) {
            return null;
        }
        long[] rows = new long[real];
        for (int i = 0, r = 0; i < m.length; i++) {
            if (m[i] != 0) {
                rows[r++] = i;
            }
        }
        return new Packing(Native.of(mask.getManager(), rows, new Shape(real)), s.get(0), s.get(1));
    }

    long batch() {
        return batch;
    }

    long tokens() {
        return tokens;
    }

    /** (B, T, D) -> (R, D): the real tokens' rows. */
    NDArray pack(NDArray x) {
        return x.reshape(batch * tokens, -1).get(rows);
    }

    /**
     * {@link #unpack}, into one buffer that the next call overwrites: for a layer's Q/K/V projections,
     * which are read before the next layer writes its own (no zero-filling of a fresh array per layer).
     */
    NDArray unpackProjections(NDArray x) {
        if (projections == null || projections.getShape().get(1) != x.getShape().get(1)) {
            projections = zeros(x);
        }
        return spread(x, projections);
    }

    /** (R, D) -> (B, T, D), zero at padded positions. */
    NDArray unpack(NDArray x) {
        return spread(x, zeros(x));
    }

    private NDArray zeros(NDArray x) {
        return x.getManager().zeros(new Shape(batch * tokens, x.getShape().get(1)), x.getDataType());
    }

    /** x's rows written to the real tokens' rows of {@code into} (B·T, D), seen as (B, T, D). */
    private NDArray spread(NDArray x, NDArray into) {
        into.set(new NDIndex("{}", rows), x);
        return into.reshape(batch, tokens, x.getShape().get(1));
    }
}
