package dev.headguard.model;

import ai.djl.ndarray.NDManager;
import dev.headguard.bench.Rss;
import dev.headguard.testing.Fixtures;
import dev.headguard.text.TokenBatch;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 2,000 forward batches with every attention map returned, each in its own manager: the process
 * RSS (native memory included) must not grow by more than 10% after a warm-up of 500 batches
 * (JIT, metaspace and the allocator settle first). A tiny model keeps this fast;
 * {@code headguard bench memory} runs the same loop on MiniLM.
 */
class MemoryTest {
    @Test
    void twoThousandForwardBatchesRunInFlatMemory() {
        ModelConfig c = Fixtures.tinyConfig();
        try (NDManager root = TorchRuntime.newManager(); TransformerModel model = new TransformerModel(c, Fixtures.tinyWeights(c, 1), root)) {
            long[] ids = new long[16 * 24];
            long[] mask = new long[ids.length];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = 1000 + (i * 7919L) % 20000;
                mask[i] = (i % 24) < 20 ? 1 : 0;
            }
            TokenBatch batch = new TokenBatch(ids, mask, new long[ids.length], new int[16], 16, 24);
            long baseline = 0;
            for (int i = 0; i < 2500; i++) {
                try (NDManager m = root.newSubManager()) {
                    TokenBatch.Arrays in = batch.toArrays(m);
                    ModelOutput out = model.forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), ForwardOptions.INFERENCE.withAttentions().withHiddenStates());
                    out.attentions().get(1).sum().getFloat();
                }
                if (i == 499) {
                    System.gc();
                    baseline = Rss.current();
                }
            }
            System.gc();
            long end = Rss.current();
            assertTrue(baseline > 0, "RSS readable from /proc");
            double growth = (end - baseline) / (double) baseline;
            System.out.printf("memory: RSS %.1f MiB after 500 warm-up batches, %.1f MiB after 2000 more (%+.1f%%)%n", baseline / 1048576.0, end / 1048576.0, 100 * growth);
            assertTrue(growth <= 0.10, "RSS grew " + 100 * growth + "%");
            // Only the model's parameters remain: every batch's arrays were freed with its manager.
            assertTrue(root.getManagedArrays().size() == model.parameters().size(),
                    root.getManagedArrays().size() + " arrays alive, " + model.parameters().size() + " parameters");
        }
    }
}
