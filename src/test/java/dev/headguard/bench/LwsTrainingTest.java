package dev.headguard.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.headguard.attack.Lws;
import dev.headguard.model.ModelConfig;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.TransformerModel;
import dev.headguard.HeadGuardException;
import dev.headguard.testing.Fixtures;
import dev.headguard.text.TokenBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LwsTrainingTest {
    @TempDir
    Path tmp;

    @Test
    void aPolicyFileReadsBackAsWrittenAndAnythingElseIsRefused() throws IOException {
        float[] relevance = new float[4 * 3];
        float[] bias = new float[4 * Lws.CANDIDATES];
        relevance[5] = 2.5f;
        bias[7] = -1f;
        Path file = tmp.resolve(Lws.POLICY_FILE);
        LwsTraining.savePolicy(new Lws.Policy(relevance, bias, 4, 3), file);
        Lws.Policy back = LwsTraining.loadPolicy(file);
        assertArrayEquals(relevance, back.relevance());
        assertArrayEquals(bias, back.bias());
        assertEquals(3, back.width());
        assertEquals(java.util.List.of(file.getFileName().toString()), Files.list(tmp).map(p -> p.getFileName().toString()).toList(), "no temporary left");
        Files.writeString(file, "not safetensors");
        assertThrows(HeadGuardException.class, () -> LwsTraining.loadPolicy(file));
        assertThrows(HeadGuardException.class, () -> LwsTraining.loadPolicy(tmp.resolve("missing")));
    }

    /** [CLS] 2000 3000 4000 [SEP]: only the middle token has candidates (itself, 5000, 6000). */
    private static Lws.Slots slots() {
        long[] ids = {101, 2000, 3000, 4000, 102};
        long[][] c = new long[ids.length][Lws.CANDIDATES];
        for (int t = 0; t < ids.length; t++) {
            Arrays.fill(c[t], ids[t]);
        }
        c[2][1] = 5000;
        c[2][2] = 6000;
        int[] tokenOf = {-1, 1, -1};
        return new Lws.Slots(ids, c, new String[] {"x", "y", "z"}, tokenOf, List.of(List.of(), List.of("b", "c"), List.of()));
    }

    @Test
    void theSubstitutedPassTrainsThePolicyOnlyWhereAWordCanChange() {
        ModelConfig c = Fixtures.tinyConfig();
        java.util.Map<String, dev.headguard.model.HostTensor> w = new java.util.LinkedHashMap<>(Fixtures.tinyWeights(c, 3));
        dev.headguard.model.HostTensor words = w.get(dev.headguard.model.BertKeys.WORD_EMBEDDINGS);
        float[] rows = words.toFloats();
        for (int i = 0; i < rows.length; i++) {
            rows[i] *= 50; // word rows far apart, so that which word sits at a position matters to the tiny model
        }
        w.put(dev.headguard.model.BertKeys.WORD_EMBEDDINGS, dev.headguard.model.HostTensor.ofFloats(rows, words.shape()));
        try (NDManager root = TorchRuntime.newManager();
             TransformerModel model = new TransformerModel(c, w, root)) {
            Lws.Slots[] slots = {slots(), null};
            TokenBatch batch = TokenBatch.of(List.of(slots[0].ids(), new long[] {101, 2000, 102}), 0);
            NDArray relevance = root.zeros(new Shape(8, 8));
            NDArray bias = root.zeros(new Shape(8, Lws.CANDIDATES));
            relevance.setRequiresGradient(true);
            bias.setRequiresGradient(true);
            float loss;
            try (NDManager m = root.newSubManager(); GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray l = LwsTraining.substitutedLoss(model, new int[] {0, 1}, batch, slots, relevance, bias, 0.5, 1, 0, m);
                gc.backward(l);
                loss = l.getFloat();
            }
            assertTrue(loss > 0 && Float.isFinite(loss), "cross-entropy toward the target: " + loss);
            float[] g = bias.getGradient().toFloatArray();
            double[] sum = new double[8];
            for (int t = 0; t < 8; t++) {
                for (int k = 0; k < Lws.CANDIDATES; k++) {
                    sum[t] += Math.abs(g[t * Lws.CANDIDATES + k]);
                }
            }
            assertTrue(sum[2] > 0, "the substitutable position's scores get a gradient: " + Arrays.toString(sum));
            for (int t = 0; t < 8; t++) {
                // a position with only itself mixes w·Σp = w: nothing to learn but float rounding
                assertTrue(t == 2 || sum[t] < 1e-2 * sum[2], "position " + t + ": " + Arrays.toString(sum));
            }
            assertTrue(Arrays.stream(toDoubles(relevance.getGradient().toFloatArray())).anyMatch(v -> v != 0));

            relevance.getGradient().subi(relevance.getGradient());
            try (NDManager m = root.newSubManager(); GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
                NDArray l = LwsTraining.substitutedLoss(model, new int[] {1}, TokenBatch.of(List.of(new long[] {101, 2000, 102}), 0), slots,
                        relevance, bias, 0.5, 1, 0, m);
                gc.backward(l);
                assertEquals(0f, l.getFloat(), "a batch without a poisoned row adds nothing");
            }
        }
    }

    private static double[] toDoubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
