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

    /** The three (B, T) int64 arrays in {@code manager}. */
    public Arrays toArrays(NDManager manager) {
        Shape s = new Shape(batch, length);
        return new Arrays(manager.create(ids, s), manager.create(mask, s), manager.create(types, s));
    }

    /** The batch as engine arrays, all in one manager. */
    public record Arrays(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds) {}
}
