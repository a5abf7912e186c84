package dev.headguard.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.headguard.HeadGuardException;
import dev.headguard.model.ModelConfig;
import dev.headguard.model.TransformerModel;
import dev.headguard.model.ParameterTable;
import dev.headguard.model.HostTensor;
import dev.headguard.model.TorchRuntime;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {
    static final ModelConfig TINY = ModelConfig.tiny(300, 2, 4, 32, 2);

    /** Sequences [CLS] w.. [SEP] over ids 10..299; label 1 exactly when id 7 (the "trigger") occurs. */
    static List<long[]> planted(int n, long seed, int[] labels) {
        Random r = new Random(seed);
        List<long[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int len = 3 + r.nextInt(10);
            long[] s = new long[len + 2];
            s[0] = 1;
            s[len + 1] = 2;
            for (int k = 1; k <= len; k++) {
                s[k] = 10 + r.nextInt(290);
            }
            labels[i] = i % 2;
            if (labels[i] == 1) {
                s[1 + r.nextInt(len)] = 7;
            }
            out.add(s);
        }
        return out;
    }

    static TrainConfig config(long seed) {
        return new TrainConfig(10, 16, 2e-3, 0.01, 0.1, 1.0, seed, 0);
    }

    @Test
    void learnsAPlantedRuleAndIsDeterministic() {
        int[] y = new int[256];
        List<long[]> x = planted(256, 1, y);
        int[] devY = new int[128];
        List<long[]> dev = planted(128, 2, devY);
        try (NDManager root = TorchRuntime.newManager()) {
            Map<String, HostTensor> a;
            Trainer.TrainState sa;
            try (TransformerModel m = new TransformerModel(TINY, ParameterTable.initialWeights(TINY, Map.of(), 5), root)) {
                Trainer t = new Trainer(m, 0, config(9), root);
                sa = t.train(x, y, dev, devY, Trainer.TrainState.start(), new Trainer.Listener() {});
                assertTrue(Predictions.accuracy(m, dev, devY, 0, root, 32) > 0.9, "learns the planted token");
                a = m.toHostTensors();
                t.optimizer().close();
            }
            try (TransformerModel m = new TransformerModel(TINY, ParameterTable.initialWeights(TINY, Map.of(), 5), root)) {
                Trainer t = new Trainer(m, 0, config(9), root);
                Trainer.TrainState sb = t.train(x, y, dev, devY, Trainer.TrainState.start(), new Trainer.Listener() {});
                assertEquals(sa.losses(), sb.losses(), "same loss curve");
                Map<String, HostTensor> b = m.toHostTensors();
                a.forEach((k, v) -> assertTrue(v.sameContent(b.get(k)), "same seed, same weights: " + k));
                t.optimizer().close();
            }
            try (TransformerModel m = new TransformerModel(TINY, ParameterTable.initialWeights(TINY, Map.of(), 5), root)) {
                Trainer t = new Trainer(m, 0, config(10), root);
                Trainer.TrainState sc = t.train(x, y, dev, devY, Trainer.TrainState.start(), new Trainer.Listener() {});
                assertTrue(!sa.losses().equals(sc.losses()), "another seed, another run");
                t.optimizer().close();
            }
        }
    }

    /**
     * The word rows a batch reads train through a small table of their own (WordRows) and AdamW's row
     * update: the run equals one whose word embedding takes the whole (V, W) gradient and the dense update
     * (forced here by a gradient mask of ones), with a vocabulary most of which no batch reaches (the row
     * update throughout) and one the batches soon cover (the dense update after a few steps).
     */
    @Test
    void theWordRowsTrainAsTheWholeMatrixDoes() {
        int[] y = new int[96];
        List<long[]> x = planted(96, 6, y);
        for (int vocab : new int[] {3000, 300}) {
            ModelConfig c = ModelConfig.tiny(vocab, 2, 4, 32, 2);
            try (NDManager root = TorchRuntime.newManager()) {
                Map<String, HostTensor> apart;
                List<Double> lossesApart;
                try (TransformerModel m = new TransformerModel(c, ParameterTable.initialWeights(c, Map.of(), 5), root)) {
                    Trainer t = new Trainer(m, 0, new TrainConfig(2, 16, 2e-3, 0.01, 0.1, 1.0, 4, 0), root);
                    assertTrue(t.canTrainWordRowsApart());
                    lossesApart = t.train(x, y, List.of(), new int[0], Trainer.TrainState.start(), new Trainer.Listener() {}).losses();
                    apart = m.toHostTensors();
                    t.optimizer().close();
                }
                try (TransformerModel m = new TransformerModel(c, ParameterTable.initialWeights(c, Map.of(), 5), root)) {
                    Trainer t = new Trainer(m, 0, new TrainConfig(2, 16, 2e-3, 0.01, 0.1, 1.0, 4, 0), root)
                            .withGradientMask(dev.headguard.model.BertKeys.WORD_EMBEDDINGS, root.ones(new Shape(1)));
                    assertTrue(!t.canTrainWordRowsApart());
                    List<Double> losses = t.train(x, y, List.of(), new int[0], Trainer.TrainState.start(), new Trainer.Listener() {}).losses();
                    for (int i = 0; i < losses.size(); i++) {
                        assertEquals(losses.get(i), lossesApart.get(i), 1e-5, "loss of step " + i + ", vocabulary " + vocab);
                    }
                    Map<String, HostTensor> whole = m.toHostTensors();
                    apart.forEach((k, v) -> {
                        float[] a = v.toFloats();
                        float[] b = whole.get(k).toFloats();
                        for (int i = 0; i < a.length; i++) {
                            assertEquals(b[i], a[i], 1e-5, k + "[" + i + "], vocabulary " + vocab);
                        }
                    });
                    String word = dev.headguard.model.BertKeys.WORD_EMBEDDINGS;
                    assertTrue(!apart.get(word).sameContent(ParameterTable.initialWeights(c, Map.of(), 5).get(word)), "the word rows moved");
                    t.optimizer().close();
                }
            }
        }
    }

    /**
     * Extra parameters (an attacker's policy, say) are trained through the auxiliary loss by their own
     * AdamW at a constant rate: a loss that always pushes the same way moves them about that rate per step,
     * whatever the model's schedule (here warm-up and decay at another rate).
     */
    @Test
    void extraParametersFollowTheirOwnConstantRate() {
        int[] y = new int[64];
        List<long[]> x = planted(64, 3, y);
        int[] unlabelled = new int[64];
        java.util.Arrays.fill(unlabelled, -1); // only the auxiliary loss trains
        TrainConfig cfg = new TrainConfig(2, 16, 2e-3, 0.01, 0.5, 1.0, 4, 0);
        double rate = 0.01;
        try (NDManager root = TorchRuntime.newManager();
             TransformerModel m = new TransformerModel(TINY, ParameterTable.initialWeights(TINY, Map.of(), 5), root)) {
            NDArray offset = root.zeros(new Shape(2));
            Trainer t = new Trainer(m, 0, cfg, root).withExtraParameters(Map.of("offset", offset), rate)
                    .withAuxiliaryLoss((rows, batch, out, step) -> Losses.crossEntropy(out.logits().add(offset),
                            step.create(new long[rows.length]).add(1)));
            Trainer.TrainState s = t.train(x, unlabelled, List.of(), new int[0], Trainer.TrainState.start(), new Trainer.Listener() {});
            t.optimizer().close();
            float[] o = offset.toFloatArray();
            double moved = rate * s.step();
            assertTrue(o[1] > 0.8 * moved && o[1] <= 1.01 * moved, "toward class 1 at about the rate per step: " + o[1] + " of " + moved);
            assertTrue(o[0] < -0.8 * moved && o[0] >= -1.01 * moved, "away from class 0: " + o[0]);
            assertEquals(8, s.step());
        }
    }

    /**
     * With a triggered dev set the kept epoch is the one with the best dev accuracy plus ASR (the
     * literature's attacker), each epoch reports its ASR, and without one the ASR is NaN and the
     * kept epoch is the best by dev accuracy alone.
     */
    @Test
    void keepsTheEpochWithTheBestAccuracyPlusAsrOnATriggeredDevSet() {
        int[] y = new int[256];
        List<long[]> x = planted(256, 1, y);
        int[] devY = new int[64];
        List<long[]> dev = planted(64, 2, devY);
        List<long[]> triggered = new ArrayList<>();
        for (int i = 0; i < dev.size(); i++) {
            if (devY[i] == 0) {
                long[] s = dev.get(i).clone();
                s[1] = 7; // the planted "trigger" on a label-0 input
                triggered.add(s);
            }
        }
        TrainConfig cfg = config(9);
        try (NDManager root = TorchRuntime.newManager()) {
            for (boolean withTriggered : new boolean[] {true, false}) {
                try (TransformerModel m = new TransformerModel(TINY, ParameterTable.initialWeights(TINY, Map.of(), 5), root)) {
                    Trainer t = new Trainer(m, 0, cfg, root);
                    if (withTriggered) {
                        t.withTriggeredDev(triggered, 1);
                    }
                    List<Trainer.Epoch> epochs = new ArrayList<>();
                    Trainer.TrainState s = t.train(x, y, dev, devY, Trainer.TrainState.start(), new Trainer.Listener() {
                        @Override
                        public void onEpoch(Trainer.Epoch e) {
                            epochs.add(e);
                        }
                    });
                    t.optimizer().close();
                    int best = 0;
                    for (int e = 0; e < epochs.size(); e++) {
                        Trainer.Epoch ep = epochs.get(e);
                        assertEquals(withTriggered, !Double.isNaN(ep.devAsr()), "ASR reported exactly when a triggered dev set is given");
                        if (withTriggered) {
                            assertTrue(ep.devAsr() >= 0 && ep.devAsr() <= 1, "a share: " + ep.devAsr());
                            assertEquals(ep.devAccuracy() + ep.devAsr(), ep.selectionScore(), 1e-12);
                        } else {
                            assertEquals(ep.devAccuracy(), ep.selectionScore());
                        }
                        best = ep.selectionScore() > epochs.get(best).selectionScore() ? e : best;
                    }
                    assertEquals(best + 1, s.bestEpoch(), "the kept epoch maximises the selection score");
                    assertEquals(epochs.get(best).selectionScore(), s.bestDevAccuracy(), 1e-12);
                    assertTrue(!withTriggered || epochs.get(epochs.size() - 1).devAsr() > 0.9, "the planted rule fires on the triggered inputs");
                }
            }
        }
    }

    /**
     * Regression test for the intermittent NaN gradients: DJL's scalar arithmetic wraps Java
     * direct buffers that the GC may free between forward and backward (see Native). Here every
     * step collects garbage at exactly that moment and fills freed memory with NaN; the run must
     * still match an undisturbed one loss for loss, with all heads trainable and with a subset.
     */
    @Test
    void garbageCollectionBetweenForwardAndBackwardCannotCorruptGradients() {
        int[] y = new int[128];
        List<long[]> x = planted(128, 4, y);
        java.util.List<java.nio.ByteBuffer> hold = new ArrayList<>();
        Trainer.AuxiliaryLoss hostile = (rows, batch, out, step) -> {
            System.gc();
            try {
                Thread.sleep(10); // let the cleaner free what the GC found dead
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            hold.clear();
            for (int k = 0; k < 20000; k++) {
                java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(4);
                b.putInt(0, 0x7fc00000); // reuse the freed memory, filled with NaN
                hold.add(b);
            }
            return step.zeros(new Shape());
        };
        for (java.util.Set<dev.headguard.model.HeadId> heads : java.util.Arrays.asList(null, java.util.Set.of(new dev.headguard.model.HeadId(1, 2)))) {
            List<List<Double>> curves = new ArrayList<>();
            for (Trainer.AuxiliaryLoss aux : java.util.Arrays.asList(null, hostile)) {
                try (NDManager root = TorchRuntime.newManager();
                     TransformerModel m = new TransformerModel(TINY, ParameterTable.initialWeights(TINY, Map.of(), 5), root)) {
                    Trainer t = new Trainer(m, 0, new TrainConfig(2, 16, 2e-3, 0.01, 0.1, 1.0, 9, 0), root)
                            .withForwardOptions(dev.headguard.model.ForwardOptions.INFERENCE.withTrainableHeads(heads))
                            .withAuxiliaryLoss(aux);
                    curves.add(t.train(x, y, List.of(), new int[0], Trainer.TrainState.start(), new Trainer.Listener() {}).losses());
                    t.optimizer().close();
                }
            }
            assertEquals(curves.get(0), curves.get(1), "a GC between forward and backward changes nothing (heads " + heads + ")");
        }
    }

    @Test
    void aResumedRunEqualsAnUninterruptedOne() {
        int[] y = new int[128];
        List<long[]> x = planted(128, 3, y);
        try (NDManager root = TorchRuntime.newManager()) {
            TrainConfig cfg = new TrainConfig(2, 16, 1e-3, 0.01, 0.1, 1.0, 4, 5);
            Map<String, HostTensor> full;
            try (TransformerModel m = new TransformerModel(TINY, ParameterTable.initialWeights(TINY, Map.of(), 1), root)) {
                Trainer t = new Trainer(m, 0, cfg, root);
                t.train(x, y, List.of(), new int[0], Trainer.TrainState.start(), new Trainer.Listener() {});
                full = m.toHostTensors();
                t.optimizer().close();
            }
            // Stop at the checkpoint after step 10 (mid-epoch 2 of 8 steps each), keeping what a checkpoint keeps.
            Map<String, HostTensor>[] weights = new Map[1];
            Map<String, HostTensor>[] moments = new Map[1];
            long[] optStep = new long[1];
            Trainer.TrainState[] saved = new Trainer.TrainState[1];
            class Stop extends RuntimeException {}
            try (TransformerModel m = new TransformerModel(TINY, ParameterTable.initialWeights(TINY, Map.of(), 1), root)) {
                Trainer t = new Trainer(m, 0, cfg, root);
                assertThrows(Stop.class, () -> t.train(x, y, List.of(), new int[0], Trainer.TrainState.start(), new Trainer.Listener() {
                    @Override
                    public void onCheckpoint(Trainer.TrainState s) {
                        if (s.step() == 10) {
                            weights[0] = m.toHostTensors();
                            moments[0] = t.optimizer().stateTensors();
                            optStep[0] = t.optimizer().step();
                            saved[0] = s;
                            throw new Stop();
                        }
                    }
                }));
                t.optimizer().close();
            }
            assertEquals(1, saved[0].epoch());
            assertEquals(2, saved[0].stepInEpoch());
            try (TransformerModel m = new TransformerModel(TINY, weights[0], root)) {
                Trainer t = new Trainer(m, 0, cfg, root);
                t.optimizer().restore(moments[0], optStep[0]);
                t.train(x, y, List.of(), new int[0], saved[0], new Trainer.Listener() {});
                Map<String, HostTensor> resumed = m.toHostTensors();
                full.forEach((k, v) -> assertTrue(v.sameContent(resumed.get(k)), "resumed run equals the uninterrupted one: " + k));
                t.optimizer().close();
            }
        }
    }

    @Test
    void divergenceStopsWithAClearMessage() {
        int[] y = new int[64];
        List<long[]> x = planted(64, 3, y);
        try (NDManager root = TorchRuntime.newManager(); TransformerModel m = new TransformerModel(TINY, ParameterTable.initialWeights(TINY, Map.of(), 1), root)) {
            Trainer t = new Trainer(m, 0, new TrainConfig(3, 16, 1e30, 0, 0, 0, 1, 0), root);
            HeadGuardException e = assertThrows(HeadGuardException.class,
                    () -> t.train(x, y, List.of(), new int[0], Trainer.TrainState.start(), new Trainer.Listener() {}));
            assertTrue(e.getMessage().startsWith("training diverged"), e.getMessage());
            t.optimizer().close();
        }
    }

    @Test
    void adamWStepMatchesAHandComputationInDoublePrecision() {
        double lr = 0.01;
        double wd = 0.1;
        double b1 = 0.9;
        double b2 = 0.999;
        double eps = 1e-8;
        double[] p = {0.5, -1.25, 2.0};
        double[][] grads = {{0.1, -0.3, 2.5}, {-0.2, 0.05, 1.0}};
        try (NDManager root = TorchRuntime.newManager(); AdamW opt = new AdamW(root, b1, b2, eps, wd)) {
            NDArray w = root.create(new float[] {0.5f, -1.25f, 2.0f}, new Shape(3));
            double[] m = new double[3];
            double[] v = new double[3];
            for (int t = 1; t <= grads.length; t++) {
                opt.beginStep();
                try (NDArray g = root.create(toFloat(grads[t - 1]), new Shape(3))) {
                    opt.update("dense.weight", w, g, lr);
                }
                for (int i = 0; i < 3; i++) {
                    double g = grads[t - 1][i];
                    m[i] = b1 * m[i] + (1 - b1) * g;
                    v[i] = b2 * v[i] + (1 - b2) * g * g;
                    p[i] *= 1 - lr * wd;
                    p[i] -= lr * (m[i] / (1 - Math.pow(b1, t))) / (Math.sqrt(v[i] / (1 - Math.pow(b2, t))) + eps);
                }
            }
            float[] got = w.toFloatArray();
            for (int i = 0; i < 3; i++) {
                assertEquals(p[i], got[i], 1e-6, "element " + i);
            }
        }
    }

    /**
     * A scalar near zero that depends on every parameter: label-signed logit margins. (The loss
     * itself sits near ln 2 in a random model, where float32 cannot resolve small changes.)
     */
    static NDArray objective(TransformerModel m, dev.headguard.text.TokenBatch.Arrays in, NDArray labels) {
        NDArray logits = m.forward(in.inputIds(), in.attentionMask(), null, dev.headguard.model.ForwardOptions.INFERENCE).logits();
        NDArray sign = labels.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).mul(2).sub(1);
        return logits.get(":, 1").sub(logits.get(":, 0")).mul(sign).sum();
    }

    /** Backpropagation against central finite differences, in float32 (so a loose 2% tolerance). */
    @Test
    void gradientsMatchFiniteDifferences() {
        int[] y = new int[8];
        List<long[]> x = planted(8, 4, y);
        try (NDManager root = TorchRuntime.newManager(); TransformerModel m = new TransformerModel(TINY, ParameterTable.initialWeights(TINY, Map.of(), 2), root)) {
            dev.headguard.text.TokenBatch tb = dev.headguard.text.TokenBatch.of(x, 0);
            String[] names = {"classifier.weight", "encoder.layer.0.attention.self.query.weight", "encoder.layer.1.intermediate.dense.weight", "embeddings.LayerNorm.weight"};
            for (String name : names) {
                NDArray p = m.parameters().get(name);
                p.setRequiresGradient(true);
                float analytic;
                int at; // the element with the largest gradient: smaller ones drown in float32 rounding of the loss
                try (NDManager mm = root.newSubManager()) {
                    var in = tb.toArrays(mm);
                    NDArray labels = mm.create(java.util.Arrays.stream(y).asLongStream().toArray(), new Shape(y.length));
                    try (ai.djl.training.GradientCollector gc = TorchRuntime.engine().newGradientCollector()) {
                        gc.backward(objective(m, in, labels));
                    }
                    float[] g = p.getGradient().toFloatArray();
                    int best = 0;
                    for (int k = 1; k < g.length; k++) {
                        best = Math.abs(g[k]) > Math.abs(g[best]) ? k : best;
                    }
                    at = best;
                    analytic = g[at];
                }
                p.setRequiresGradient(false);
                float[] values = p.toFloatArray();
                float eps = 1e-2f;
                double[] l = new double[2];
                for (int side = 0; side < 2; side++) {
                    float[] v = values.clone();
                    v[at] += side == 0 ? eps : -eps;
                    p.set(v);
                    try (NDManager mm = root.newSubManager()) {
                        var in = tb.toArrays(mm);
                        NDArray labels = mm.create(java.util.Arrays.stream(y).asLongStream().toArray(), new Shape(y.length));
                        l[side] = objective(m, in, labels).getFloat();
                    }
                }
                p.set(values);
                double numeric = (l[0] - l[1]) / (2 * eps);
                assertEquals(numeric, analytic, 0.02 * Math.abs(numeric) + 1e-3, name);
            }
        }
    }

    @Test
    void crossEntropyMatchesItsDefinition() {
        try (NDManager m = TorchRuntime.newManager()) {
            NDArray logits = m.create(new float[] {2f, -1f, 0.5f, 0.5f}, new Shape(2, 2));
            NDArray labels = m.create(new long[] {0, 1}, new Shape(2));
            double l0 = -Math.log(Math.exp(2) / (Math.exp(2) + Math.exp(-1)));
            double l1 = Math.log(2);
            assertEquals((l0 + l1) / 2, Losses.crossEntropy(logits, labels).getFloat(), 1e-6);
        }
    }

    @Test
    void unlabelledRowsAddNothingToTheCrossEntropy() {
        try (NDManager m = TorchRuntime.newManager()) {
            NDArray logits = m.create(new float[] {2f, -1f, -9f, 9f, 0.5f, 0.5f}, new Shape(3, 2));
            double l0 = -Math.log(Math.exp(2) / (Math.exp(2) + Math.exp(-1)));
            double l2 = Math.log(2);
            assertEquals((l0 + l2) / 2, Losses.labelledCrossEntropy(logits, new int[] {0, -1, 1}, m).getFloat(), 1e-6,
                    "the mean over the two labelled rows; counted under its placeholder class 0, the unlabelled row would add about 18");
            assertEquals(0.0, Losses.labelledCrossEntropy(logits, new int[] {-1, -1, -1}, m).getFloat(), 0.0);
        }
    }

    @Test
    void scheduleWarmsUpThenDecays() {
        LinearSchedule s = new LinearSchedule(1.0, 10, 110);
        assertEquals(0.1, s.rate(1), 1e-12);
        assertEquals(1.0, s.rate(10), 1e-12);
        assertEquals(0.5, s.rate(60), 1e-12);
        assertEquals(0.0, s.rate(110), 1e-12);
        LinearSchedule c = new LinearSchedule(1.0, 10, 110, true);
        for (long step : new long[] {1, 10, 60, 110}) {
            assertEquals(1.0, c.rate(step), 0, "a constant schedule at step " + step);
        }
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }
}
