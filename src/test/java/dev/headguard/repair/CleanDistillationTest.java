package dev.headguard.repair;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.headguard.model.ModelOutput;
import dev.headguard.model.TorchRuntime;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CleanDistillationTest {

    /** Rows 0-1 are clean (teacher probabilities below), rows 2-3 carriers. */
    private static final float[][] TEACHER = {{0.9f, 0.1f}, {0.3f, 0.7f}};

    @Test
    void theLossIsTheSoftenedCrossEntropyToTheStartOnCleanRowsOnly() {
        float[] logits = {2, -1, 0.5f, 0.5f, 4, -4, -3, 3};
        try (NDManager m = TorchRuntime.newManager()) {
            ModelOutput out = output(m, logits);
            CleanDistillation d = new CleanDistillation(TEACHER, 1.5, 2.0);
            double expected = 1.5 * 4 * (crossEntropy(TEACHER[0], logits[0], logits[1], 2) + crossEntropy(TEACHER[1], logits[2], logits[3], 2)) / 2;
            assertEquals(expected, d.loss(new int[] {0, 1, 2, 3}, null, out, m).getFloat(), 1e-5);
            assertEquals(0.0, d.loss(new int[] {2, 3}, null, out, m).getFloat(), 0.0, "a batch of carriers alone adds nothing");
            // Batch order is the trainer's: row 1 first here, so each teacher row follows its training row.
            float[] swapped = {0.5f, 0.5f, 2, -1};
            assertEquals(1.5 * 4 * (crossEntropy(TEACHER[1], 0.5f, 0.5f, 2) + crossEntropy(TEACHER[0], 2, -1, 2)) / 2,
                    d.loss(new int[] {1, 0}, null, output(m, swapped), m).getFloat(), 1e-5);
        }
    }

    @Test
    void theLossIsLeastWhereTheModelStillPredictsWhatItDidAtTheStart() {
        try (NDManager m = TorchRuntime.newManager()) {
            CleanDistillation d = new CleanDistillation(new float[][] {{0.8f, 0.2f}}, 1, 2.0);
            float atStart = (float) Math.log(0.8 / 0.2); // the start's logit gap
            double least = d.loss(new int[] {0}, null, output(m, new float[] {atStart, 0}), m).getFloat();
            for (float gap : new float[] {-2, 0, 0.5f, 2, 5}) {
                assertTrue(d.loss(new int[] {0}, null, output(m, new float[] {gap, 0}), m).getFloat() > least, "gap " + gap);
            }
        }
    }

    private static ModelOutput output(NDManager m, float[] logits) {
        return new ModelOutput(null, null, m.create(logits, new Shape(logits.length / 2, 2)), List.of(), List.of(), List.of());
    }

    /** −Σ q^{1/T}_c log softmax(z / T)_c for two classes, in double. */
    private static double crossEntropy(float[] p, float z0, float z1, double t) {
        double a = Math.log(p[0]) / t;
        double b = Math.log(p[1]) / t;
        double q0 = Math.exp(a) / (Math.exp(a) + Math.exp(b));
        double lse = Math.log(Math.exp(z0 / t) + Math.exp(z1 / t));
        return -(q0 * (z0 / t - lse) + (1 - q0) * (z1 / t - lse));
    }
}
