package dev.headguard.repair;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.headguard.model.ModelOutput;
import dev.headguard.model.TorchRuntime;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SuspectUnlearningTest {

    @Test
    void theTargetGetsTauTimesItsUniformShareAndTheRestIsShared() {
        assertArrayEquals(new float[] {0.75f, 0.25f}, SuspectUnlearning.distribution(1, 2, 0.5), 1e-7f);
        assertArrayEquals(new float[] {0.625f, 0.375f}, SuspectUnlearning.distribution(1, 2, SuspectUnlearning.TARGET_SHARE), 1e-7f, "the default");
        assertArrayEquals(new float[] {0.5f, 0.5f}, SuspectUnlearning.distribution(0, 2, 1.0), 1e-7f, "tau = 1 is uniform");
        assertArrayEquals(new float[] {1f, 0f}, SuspectUnlearning.distribution(1, 2, 0.0), 1e-7f, "tau = 0 is the other class");
        float[] three = SuspectUnlearning.distribution(2, 3, 0.5);
        assertEquals(1 / 6.0, three[2], 1e-6);
        assertEquals(5 / 12.0, three[0], 1e-6);
        assertEquals(1.0, three[0] + three[1] + three[2], 1e-6);
    }

    @Test
    void aTargetOutsideTheClassesOrAShareOutsideZeroToOneIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new SuspectUnlearning(0, 1, 2, 2, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new SuspectUnlearning(0, 1, 0, 2, 1.5));
        assertThrows(IllegalArgumentException.class, () -> new SuspectUnlearning(0, 1, 0, 1, 0.5));
    }

    @Test
    void rowsCloseToTheThresholdWeighLessAndCleanRowsNotAtAll() {
        assertArrayEquals(new float[] {0.25f, 1f, 1f, 0f}, SuspectUnlearning.weights(new double[] {0.5, 2.0, 7.0, -1.0}), 1e-7f);
        // Training rows 0-1 clean, 2-3 flagged with weights 0.25 and 1; q = (3/4, 1/4), ν = 2.
        double[][] logits = {{3, -1}, {0, 0}, {1, 2}, {-0.5, 0.5}};
        try (NDManager m = TorchRuntime.newManager()) {
            ModelOutput out = new ModelOutput(null, null, m.create(new float[] {3, -1, 0, 0, 1, 2, -0.5f, 0.5f}, new Shape(4, 2)), List.of(), List.of(), List.of());
            SuspectUnlearning u = new SuspectUnlearning(2, 2.0, 1, 2, 0.5, new float[] {0.25f, 1f});
            double expected = 2 * (0.25 * crossEntropyToQ(logits[2]) + 1 * crossEntropyToQ(logits[3])) / 1.25;
            assertEquals(expected, u.loss(new int[] {0, 1, 2, 3}, null, out, m).getFloat(), 1e-5);
            assertEquals(0.0, u.loss(new int[] {0, 1}, null, out, m).getFloat(), 0.0, "a batch without flagged rows adds nothing");
            SuspectUnlearning plain = new SuspectUnlearning(2, 2.0, 1, 2, 0.5);
            assertEquals(2 * (crossEntropyToQ(logits[2]) + crossEntropyToQ(logits[3])) / 2, plain.loss(new int[] {0, 1, 2, 3}, null, out, m).getFloat(), 1e-5);
        }
    }

    /** −Σ q_c log softmax(z)_c for q = (3/4, 1/4), in double. */
    private static double crossEntropyToQ(double[] z) {
        double lse = Math.log(Math.exp(z[0]) + Math.exp(z[1]));
        return -(0.75 * (z[0] - lse) + 0.25 * (z[1] - lse));
    }
}
