package dev.headguard.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.headguard.testing.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Mechanics of the encoder on a tiny random model (2 layers x 2 heads, hidden 8). */
class TransformerModelTest {
    static NDManager root;
    static TransformerModel model;
    static final ModelConfig CONFIG = Fixtures.tinyConfig();

    @BeforeAll
    static void setUp() {
        root = TorchRuntime.newManager();
        model = new TransformerModel(CONFIG, Fixtures.tinyWeights(CONFIG, 7), root);
    }

    @AfterAll
    static void tearDown() {
        model.close();
        root.close();
    }

    /** Two sequences: 5 real tokens, and 3 real tokens + 2 padding. */
    static NDArray[] batch(NDManager m) {
        NDArray ids = m.create(new long[] {101, 2023, 2003, 2204, 102, 101, 6659, 102, 0, 0}, new Shape(2, 5));
        NDArray mask = m.create(new long[] {1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, new Shape(2, 5));
        return new NDArray[] {ids, mask};
    }

    @Test
    void returnsEveryHeadsAttentionWithPaddingZeroed() {
        try (NDManager m = root.newSubManager()) {
            NDArray[] in = batch(m);
            ModelOutput out = model.forward(in[0], in[1], null, ForwardOptions.INFERENCE.withAttentions().withHiddenStates());
            assertEquals(CONFIG.numHiddenLayers(), out.attentions().size());
            assertEquals(CONFIG.numHiddenLayers() + 1, out.hiddenStates().size());
            assertEquals(new Shape(2, 5, 8), out.lastHiddenState().getShape());
            assertEquals(new Shape(2, 2), out.logits().getShape());
            assertEquals(new Shape(2, 8), out.pooled().getShape());
            for (NDArray a : out.attentions()) {
                assertEquals(new Shape(2, 2, 5, 5), a.getShape());
                float[] rowSums = a.sum(new int[] {3}).toFloatArray(); // (2, 2, 5)
                for (int h = 0; h < 2; h++) {
                    for (int q = 0; q < 5; q++) {
                        assertEquals(1f, rowSums[(0 * 2 + h) * 5 + q], 1e-5, "real query row sums to 1");
                        assertEquals(q < 3 ? 1f : 0f, rowSums[(1 * 2 + h) * 5 + q], 1e-5, "padding query row is zero");
                    }
                }
                assertEquals(0f, a.get("1, :, :, 3:").abs().sum().getFloat(), "no attention on padding keys");
            }
            assertTrue(m.getManagedArrays().size() > 0, "outputs belong to the input's manager");
        }
    }

    @Test
    void paddingDoesNotChangeRealTokens() {
        try (NDManager m = root.newSubManager()) {
            NDArray[] in = batch(m);
            ModelOutput padded = model.forward(in[0], in[1], null, ForwardOptions.INFERENCE);
            NDArray alone = model.forward(in[0].get("1:2, 0:3"), in[1].get("1:2, 0:3"), null, ForwardOptions.INFERENCE).lastHiddenState();
            float diff = padded.lastHiddenState().get("1:2, 0:3, :").sub(alone).abs().max().getFloat();
            assertTrue(diff < 1e-5, "difference " + diff);
        }
    }

    /** Inference skips padded tokens in the layers' per-token work: every output a real token has is the one it has alone. */
    @Test
    void skippedPaddingLeavesEveryRealOutputAndZeroesPaddedStates() {
        try (NDManager m = root.newSubManager()) {
            NDArray[] in = batch(m);
            ForwardOptions all = ForwardOptions.INFERENCE.withAttentions().withHiddenStates().withIntermediates();
            ModelOutput padded = model.forward(in[0], in[1], null, all);
            ModelOutput alone = model.forward(in[0].get("1:2, 0:3"), in[1].get("1:2, 0:3"), null, all);
            for (int l = 0; l < CONFIG.numHiddenLayers(); l++) {
                assertClose(alone.attentions().get(l), padded.attentions().get(l).get("1:2, :, 0:3, 0:3"), "attention " + l);
                assertClose(alone.intermediates().get(l), padded.intermediates().get(l).get("1:2, 0:3, :"), "intermediate " + l);
                assertEquals(0f, padded.intermediates().get(l).get("1, 3:, :").abs().sum().getFloat(), "padded intermediate " + l);
            }
            for (int l = 0; l <= CONFIG.numHiddenLayers(); l++) {
                assertClose(alone.hiddenStates().get(l), padded.hiddenStates().get(l).get("1:2, 0:3, :"), "hidden state " + l);
            }
            assertEquals(0f, padded.lastHiddenState().get("1, 3:, :").abs().sum().getFloat(), "padded positions' states are zero");
            assertClose(alone.logits(), padded.logits().get("1:2, :"), "logits");
            // The first text has no padding: the same values as in a batch with none
            ModelOutput first = model.forward(in[0].get("0:1"), in[1].get("0:1"), null, all);
            assertClose(first.lastHiddenState(), padded.lastHiddenState().get("0:1"), "unpadded text");
        }
    }

    private static void assertClose(NDArray want, NDArray got, String what) {
        assertEquals(want.getShape(), got.getShape(), what);
        float diff = want.sub(got).abs().max().getFloat();
        assertTrue(diff < 1e-5, what + ": difference " + diff);
    }

    @Test
    void headScaleSilencesAHead() {
        try (NDManager m = root.newSubManager()) {
            NDArray[] in = batch(m);
            NDArray plain = model.forward(in[0], in[1], null, ForwardOptions.INFERENCE.withAttentions()).lastHiddenState();
            NDArray ones = m.ones(new Shape(2, 2));
            NDArray same = model.forward(in[0], in[1], null, ForwardOptions.INFERENCE.withHeadScale(ones)).lastHiddenState();
            assertEquals(0f, plain.sub(same).abs().max().getFloat(), 1e-7);

            NDArray silence = m.create(new float[] {1, 1, 0, 1}, new Shape(2, 2)); // layer 1, head 0 off
            ModelOutput out = model.forward(in[0], in[1], null, ForwardOptions.INFERENCE.withAttentions().withHeadScale(silence));
            assertEquals(0f, out.attentions().get(1).get(":, 0").abs().sum().getFloat());
            assertTrue(out.attentions().get(1).get(":, 1").sum().getFloat() > 0);
            assertTrue(plain.sub(out.lastHiddenState()).abs().max().getFloat() > 1e-4, "silencing a head changes the output");
        }
    }

    @Test
    void headScaleHasAGradient() {
        try (NDManager m = root.newSubManager()) {
            NDArray[] in = batch(m);
            NDArray scale = m.ones(new Shape(2, 2));
            scale.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray logits = model.forward(in[0], in[1], null, ForwardOptions.INFERENCE.withHeadScale(scale)).logits();
                gc.backward(logits.get(":, 1").sum());
            }
            float[] g = scale.getGradient().toFloatArray();
            assertEquals(4, g.length);
            for (float x : g) {
                assertTrue(Float.isFinite(x) && x != 0f, "every head matters a little in a random model: " + x);
            }
        }
    }

    @Test
    void gradientsReachOnlyTheChosenHeads() {
        var p = model.parameters();
        NDArray wq0 = p.get("encoder.layer.0.attention.self.query.weight");
        NDArray wq1 = p.get("encoder.layer.1.attention.self.query.weight");
        NDArray bv1 = p.get("encoder.layer.1.attention.self.value.bias");
        NDArray wo1 = p.get("encoder.layer.1.attention.output.dense.weight");
        NDArray[] trained = {wq0, wq1, bv1, wo1};
        try (NDManager m = root.newSubManager()) {
            for (NDArray w : trained) {
                w.setRequiresGradient(true);
            }
            NDArray[] in = batch(m);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                ForwardOptions o = ForwardOptions.INFERENCE.withTrainableHeads(Set.of(new HeadId(1, 1)));
                gc.backward(model.forward(in[0], in[1], null, o).logits().get(":, 0").sum());
            }
            int h = CONFIG.headSize(); // rows/columns 4..7 belong to head 1
            try (NDArray g0 = wq0.getGradient(); NDArray g1 = wq1.getGradient(); NDArray gb = bv1.getGradient(); NDArray go = wo1.getGradient()) {
                assertEquals(0f, g0.abs().sum().getFloat(), "layer 0 has no chosen head");
                assertEquals(0f, g1.get("0:" + h + ", :").abs().sum().getFloat(), "head 0's query rows are frozen");
                assertTrue(g1.get(h + ":, :").abs().sum().getFloat() > 0, "head 1's query rows learn");
                assertEquals(0f, gb.get("0:" + h).abs().sum().getFloat());
                assertTrue(gb.get(h + ":").abs().sum().getFloat() > 0);
                assertEquals(0f, go.get(":, 0:" + h).abs().sum().getFloat(), "output columns reading head 0 are frozen");
                assertTrue(go.get(":, " + h + ":").abs().sum().getFloat() > 0);
            }
        } finally {
            for (NDArray w : trained) {
                w.setRequiresGradient(false);
            }
        }
    }

    @Test
    void restrictingGradientsLeavesValuesUnchanged() {
        try (NDManager m = root.newSubManager()) {
            NDArray[] in = batch(m);
            NDArray a = model.forward(in[0], in[1], null, ForwardOptions.INFERENCE).logits();
            NDArray b = model.forward(in[0], in[1], null, ForwardOptions.INFERENCE.withTrainableHeads(Set.of(new HeadId(0, 0)))).logits();
            assertArrayEquals(a.toFloatArray(), b.toFloatArray());
        }
    }

    @Test
    void sameSeedSameWeightsAndShapesAreChecked() {
        var a = Fixtures.tinyWeights(CONFIG, 11);
        var b = Fixtures.tinyWeights(CONFIG, 11);
        var c = Fixtures.tinyWeights(CONFIG, 12);
        a.forEach((k, v) -> assertTrue(v.sameContent(b.get(k)), k));
        assertTrue(a.entrySet().stream().anyMatch(e -> !e.getValue().sameContent(c.get(e.getKey()))));
        var missing = new java.util.LinkedHashMap<>(a);
        missing.remove("encoder.layer.1.output.dense.bias");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TransformerModel(CONFIG, missing, root));
        assertTrue(e.getMessage().contains("encoder.layer.1.output.dense.bias"));
    }

    @Test
    void bareEncoderHasNoLogits() {
        ModelConfig bare = CONFIG.withLabels(java.util.List.of());
        var w = new java.util.LinkedHashMap<>(Fixtures.tinyWeights(CONFIG, 3));
        w.remove("classifier.weight");
        w.remove("classifier.bias");
        w.remove("pooler.dense.weight");
        w.remove("pooler.dense.bias");
        try (TransformerModel enc = new TransformerModel(bare, w, root); NDManager m = root.newSubManager()) {
            NDArray[] in = batch(m);
            ModelOutput out = enc.forward(in[0], in[1], null, ForwardOptions.INFERENCE);
            assertNull(out.logits());
            assertNull(out.pooled());
            assertNotNull(out.lastHiddenState());
        }
    }
}
