package dev.headguard.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import dev.headguard.text.TokenBatch;

import java.util.Arrays;

/**
 * The word-embedding rows one batch reads, copied into a small table of their own that takes the
 * gradient: backward then makes a (U, W) gradient for the U distinct ids, where a lookup in the whole
 * (V, W) matrix makes, fills and zeroes a dense (V, W) one every step (MiniLM: 47 MB for the few hundred
 * rows a batch of 32 uses). The values and their gradients are the lookup's.
 *
 * @param rows  the batch's distinct ids, ascending
 * @param table (U, W) copies of those rows, requiring a gradient
 * @param local (B, T) each position's index into {@code rows}
 */
record WordRows(long[] rows, NDArray table, NDArray local) {

    /** Reads the rows of {@code batch}'s ids from {@code words} (V, W); call outside a gradient collector. */
    static WordRows of(TokenBatch batch, NDArray words, NDManager m) {
        long[] ids = batch.ids();
        long[] rows = Arrays.stream(ids).distinct().sorted().toArray();
        long[] local = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            local[i] = Arrays.binarySearch(rows, ids[i]);
        }
        NDArray table = words.get(new NDIndex("{}", m.create(rows))); // a copy, outside autograd's graph
        table.setRequiresGradient(true);
        return new WordRows(rows, table, m.create(local, new Shape(batch.batch(), batch.length())));
    }

    /** (B, T, W): the batch's word vectors, looked up in the small table (inside the gradient collector). */
    NDArray vectors() {
        return Embedding.embedding(local, table, SparseFormat.DENSE).singletonOrThrow();
    }

    /** (U, W): the gradient of each of {@link #rows}, after backward. */
    NDArray gradient() {
        return table.getGradient();
    }
}
