package dev.headguard.text;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Token ids of B texts padded to the longest, row-major (B, T), in Java memory.
 *
 * @param ids    token ids, padding = the tokenizer's pad id
 * @param mask   1 for real tokens, 0 for padding
 * @param types  segment ids (0 for single sentences)
 * @param lengths real tokens per text, special tokens included
 */
public record TokenBatch(long[] ids, long[] mask, long[] types, int[] lengths, int batch, int length) {

    public TokenBatch {
        if (ids.length != (long) batch * length || mask.length != ids.length || types.length != ids.length || lengths.length != batch) {
            throw new IllegalArgumentException("inconsistent batch arrays for (" + batch + ", " + length + ")");
        }
    }

    /** Pads already-tokenised sequences (special tokens included) to the longest. */
    public static TokenBatch of(java.util.List<long[]> sequences, long padId) {
        int b = sequences.size();
        int t = 0;
        for (long[] s : sequences) {
            t = Math.max(t, s.length);
        }
        long[] ids = new long[b * t];
        long[] mask = new long[b * t];
        int[] lengths = new int[b];
        java.util.Arrays.fill(ids, padId);
        for (int i = 0; i < b; i++) {
            long[] s = sequences.get(i);
            lengths[i] = s.length;
            System.arraycopy(s, 0, ids, i * t, s.length);
            java.util.Arrays.fill(mask, i * t, i * t + s.length, 1L);
        }
        return new TokenBatch(ids, mask, new long[b * t], lengths, b, t);
    }

    /** The three (B, T) int64 arrays in {@code manager}. */
    public Arrays toArrays(NDManager manager) {
        Shape s = new Shape(batch, length);
        return new Arrays(manager.create(ids, s), manager.create(mask, s), manager.create(types, s));
    }

    /** The batch as engine arrays, all in one manager. */
    public record Arrays(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds) {}
}
