package dev.headguard.detect.attention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.headguard.model.TorchRuntime;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class HeadSimilarityTest {
    @Test
    void identicalHeadsScoreOneAndDisjointHeadsZero() {
        try (NDManager m = TorchRuntime.newManager()) {
            // 3 heads over 2 tokens: heads 0 and 1 attend to token 0, head 2 to token 1.
            float[] a = {
                1, 0, 1, 0,
                1, 0, 1, 0,
                0, 1, 0, 1};
            NDArray att = m.create(a, new Shape(1, 3, 2, 2));
            float[] cos = HeadSimilarity.pairwiseCosine(att).toFloatArray();
            assertEquals(1f, cos[0 * 3 + 1], 1e-6);
            assertEquals(0f, cos[0 * 3 + 2], 1e-6);
            assertEquals(1f, cos[2 * 3 + 2], 1e-6);
            float[] toOthers = HeadSimilarity.meanToOthers(HeadSimilarity.pairwiseCosine(att)).toFloatArray();
            assertEquals(0.5f, toOthers[0], 1e-6);
            assertEquals(0f, toOthers[2], 1e-6);
            assertEquals(1f / 3, HeadSimilarity.layerMean(HeadSimilarity.pairwiseCosine(att)).getFloat(0), 1e-6);
        }
    }
}
