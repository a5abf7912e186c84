package dev.headguard.inference;

import ai.djl.ndarray.NDManager;
import dev.headguard.model.ModelOutput;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.TokenBatch;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Runs a model over many texts in batches, in flat memory: each batch gets its own NDManager,
 * closed as soon as the caller has read what it needs. Texts are grouped by token length so that
 * little padding is computed; the caller is told which input rows each batch holds.
 */
public final class BatchRunner {

    /** What the caller does with one batch; the arrays die when it returns. */
    @FunctionalInterface
    public interface BatchConsumer {
        void accept(int[] rows, TokenBatch tokens, TokenBatch.Arrays inputs, ModelOutput output);
    }

    private final ModelStore.LoadedModel model;
    private final NDManager root;
    private final int batchSize;

    public BatchRunner(ModelStore.LoadedModel model, NDManager root, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1");
        }
        this.model = model;
        this.root = root;
        this.batchSize = batchSize;
    }

    /** Runs every text once; {@code sortByLength} groups texts of similar length. */
    public void run(List<String> texts, ForwardOptions options, boolean sortByLength, BatchConsumer consumer) {
        List<long[]> ids = model.tokenizer().idsOf(texts); // tokenised once: for sorting and for the batches
        Integer[] order = IntStream.range(0, texts.size()).boxed().toArray(Integer[]::new);
        if (sortByLength) {
            java.util.Arrays.sort(order, Comparator.comparingInt(i -> ids.get(i).length));
        }
        for (int from = 0; from < order.length; from += batchSize) {
            int to = Math.min(order.length, from + batchSize);
            int[] rows = new int[to - from];
            List<long[]> batchIds = new ArrayList<>(rows.length);
            for (int i = from; i < to; i++) {
                rows[i - from] = order[i];
                batchIds.add(ids.get(order[i]));
            }
            TokenBatch tokens = TokenBatch.of(batchIds, model.tokenizer().padId());
            try (NDManager m = root.newSubManager()) {
                TokenBatch.Arrays in = tokens.toArrays(m);
                ModelOutput out = model.model().forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), options);
                consumer.accept(rows, tokens, in, out);
            }
        }
    }
}
