package dev.headguard.train;

import ai.djl.ndarray.NDManager;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.TransformerModel;
import dev.headguard.text.TokenBatch;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** A classifier's predicted classes and accuracy on token sequences, in batches of similar length. */
public final class Predictions {
    private Predictions() {}

    /** Share of {@code seqs} whose predicted class equals the label. */
    public static double accuracy(TransformerModel model, List<long[]> seqs, int[] labels, long padId, NDManager root, int batchSize) {
        int[] pred = predict(model, seqs, padId, root, batchSize);
        int right = 0;
        for (int i = 0; i < pred.length; i++) {
            right += pred[i] == labels[i] ? 1 : 0;
        }
        return right / (double) pred.length;
    }

    /** Predicted class of every sequence, in input order (batches grouped by length). */
    public static int[] predict(TransformerModel model, List<long[]> seqs, long padId, NDManager root, int batchSize) {
        Integer[] order = new Integer[seqs.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, Comparator.comparingInt(i -> seqs.get(i).length));
        int[] out = new int[seqs.size()];
        for (int from = 0; from < order.length; from += batchSize) {
            List<long[]> batch = new ArrayList<>();
            int to = Math.min(order.length, from + batchSize);
            for (int i = from; i < to; i++) {
                batch.add(seqs.get(order[i]));
            }
            TokenBatch tb = TokenBatch.of(batch, padId);
            try (NDManager m = root.newSubManager()) {
                TokenBatch.Arrays in = tb.toArrays(m);
                long[] p = model.forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), ForwardOptions.INFERENCE)
                        .logits().argMax(1).toLongArray();
                for (int i = from; i < to; i++) {
                    out[order[i]] = (int) p[i - from];
                }
            }
        }
        return out;
    }
}
