package dev.headguard.repair;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.headguard.model.ModelConfig;
import dev.headguard.model.TransformerModel;
import dev.headguard.model.ModelOutput;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.HeadId;
import dev.headguard.model.HostTensor;
import dev.headguard.model.TorchRuntime;
import dev.headguard.testing.Fixtures;
import dev.headguard.train.TrainConfig;
import dev.headguard.train.Trainer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PruningTest {
    static final ModelConfig C = ModelConfig.tiny(Fixtures.VOCAB, 2, 4, 16, 2);

    static float[] logits(TransformerModel m, NDManager root, long[] ids, NDArray scale) {
        try (NDManager s = root.newSubManager()) {
            NDArray x = s.create(ids, new Shape(2, ids.length / 2));
            ForwardOptions o = scale == null ? ForwardOptions.INFERENCE : ForwardOptions.INFERENCE.withHeadScale(scale.duplicate());
            return m.forward(x, s.ones(x.getShape()), null, o).logits().toFloatArray();
        }
    }

    @Test
    void aPrunedHeadIsExactlyASilencedHeadAndUndoRestoresTheWeights() {
        long[] ids = {2, 11, 12, 13, 14, 3, 2, 15, 16, 17, 18, 3};
        try (NDManager root = TorchRuntime.newManager(); TransformerModel m = new TransformerModel(C, Fixtures.tinyWeights(C, 4), root)) {
            Map<String, HostTensor> before = m.toHostTensors();
            float[] scale = new float[2 * 4];
            java.util.Arrays.fill(scale, 1f);
            scale[1] = 0f;       // layer 0 head 1
            scale[4 + 3] = 0f;   // layer 1 head 3
            float[] silenced = logits(m, root, ids, root.create(scale, new Shape(2, 4)));
            try (Pruning p = new Pruning(m, root)) {
                p.pruneHeads(List.of(new HeadId(0, 1), new HeadId(1, 3)));
                assertArrayEquals(silenced, logits(m, root, ids, null), 1e-5f, "pruning = a head scale of 0");
                p.pruneHeads(List.of());
            }
            Map<String, HostTensor> after = m.toHostTensors();
            for (String name : before.keySet()) {
                assertTrue(before.get(name).sameContent(after.get(name)), name + " restored bit for bit");
            }
        }
    }

    @Test
    void prunedNeuronsAreSilentAndStaySoThroughFineTuning() {
        try (NDManager root = TorchRuntime.newManager(); TransformerModel m = new TransformerModel(C, Fixtures.tinyWeights(C, 5), root)) {
            int[] pruned = {0, 3, 7, 20};
            Random r = new Random(1);
            List<long[]> x = new ArrayList<>();
            int[] y = new int[64];
            for (int i = 0; i < 64; i++) {
                long[] s = new long[6];
                s[0] = 2;
                s[5] = 3;
                for (int j = 1; j < 5; j++) {
                    s[j] = 10 + r.nextInt(30);
                }
                x.add(s);
                y[i] = s[1] % 2 == 0 ? 1 : 0;
            }
            try (Pruning p = new Pruning(m, root)) {
                p.pruneNeurons(1, pruned);
                Trainer t = p.installGradientMasks(new Trainer(m, 0, new TrainConfig(2, 16, 1e-2, 0.01, 0.1, 1.0, 3, 0), root), root);
                t.train(x, y, List.of(), new int[0], Trainer.TrainState.start(), new Trainer.Listener() {});
                t.optimizer().close();
            }
            float[] w = m.parameters().get(Pruning.intermediateWeight(1)).toFloatArray();
            float[] b = m.parameters().get(Pruning.intermediateBias(1)).toFloatArray();
            int e = C.hiddenSize();
            int moved = 0;
            for (int i = 0; i < C.intermediateSize(); i++) {
                int neuron = i;
                boolean isPruned = java.util.Arrays.stream(pruned).anyMatch(k -> k == neuron);
                for (int j = 0; j < e; j++) {
                    if (isPruned) {
                        assertEquals(0f, w[i * e + j], 0f, "pruned neuron " + i + " weight " + j);
                    }
                }
                if (isPruned) {
                    assertEquals(0f, b[i], 0f, "pruned neuron " + i + " bias");
                } else {
                    moved += b[i] != 0f ? 1 : 0;
                }
            }
            assertTrue(moved > 0, "the other neurons trained");
            try (NDManager s = root.newSubManager()) {
                NDArray ids = s.create(x.get(0), new Shape(1, 6));
                ModelOutput out = m.forward(ids, s.ones(ids.getShape()), null, ForwardOptions.INFERENCE.withIntermediates());
                float[] act = out.intermediates().get(1).toFloatArray(); // (1, 6, I)
                for (int tok = 0; tok < 6; tok++) {
                    for (int k : pruned) {
                        assertEquals(0f, act[tok * C.intermediateSize() + k], 1e-7f, "activation of pruned neuron " + k);
                    }
                }
            }
        }
    }
}
