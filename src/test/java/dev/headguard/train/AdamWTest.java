package dev.headguard.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.headguard.model.HostTensor;
import dev.headguard.model.TorchRuntime;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdamWTest {
    private static final int ROWS = 200;
    private static final int COLS = 8;

    /** A gradient with {@code count} random rows non-zero, and which rows those are. */
    private static NDArray sparseGradient(NDManager m, Random r, int count, boolean[] rows) {
        float[] g = new float[ROWS * COLS];
        java.util.Arrays.fill(rows, false);
        for (int k = 0; k < count; k++) {
            int row = r.nextInt(ROWS / 2); // rows of the second half never get a gradient
            rows[row] = true;
            for (int j = 0; j < COLS; j++) {
                g[row * COLS + j] = (float) r.nextGaussian();
            }
        }
        return m.create(g, new Shape(ROWS, COLS));
    }

    /** One step of both optimizers on the same sparse gradient: {@code a} dense, {@code b} by rows. */
    private static void stepBoth(NDManager root, Random r, AdamW a, NDArray dense, AdamW b, NDArray byRows, String name, double clip) {
        boolean[] rows = new boolean[ROWS];
        try (NDManager m = root.newSubManager()) {
            NDArray g = sparseGradient(m, r, 6, rows);
            a.beginStep();
            b.beginStep();
            a.update(name, dense, clip == 1.0 ? g.duplicate() : g.duplicate().muli((float) clip), 1e-2);
            b.updateRows(name, byRows, g, clip, rows, 1e-2);
        }
    }

    @Test
    void theRowUpdateIsTheDenseUpdateToTheBitAcrossARestore() {
        try (NDManager root = TorchRuntime.newManager()) {
            NDArray start = root.randomNormal(new Shape(ROWS, COLS));
            NDArray dense = start.duplicate();
            NDArray byRows = start.duplicate();
            AdamW a = AdamW.standard(root, 0.01);
            AdamW b = AdamW.standard(root, 0.01);
            String name = "embeddings.word_embeddings.weight";
            Random r = new Random(3);
            for (int step = 1; step <= 6; step++) {
                stepBoth(root, r, a, dense, b, byRows, name, step % 3 == 0 ? 0.37 : 1.0);
            }
            // a resumed run must know which rows had a gradient before it
            AdamW resumed = AdamW.standard(root, 0.01);
            resumed.restore(b.stateTensors(), b.step());
            for (int step = 7; step <= 12; step++) {
                stepBoth(root, r, a, dense, resumed, byRows, name, step % 3 == 0 ? 0.37 : 1.0);
            }
            assertArrayEquals(dense.toFloatArray(), byRows.toFloatArray(), 0f);
            assertFalse(dense.contentEquals(start), "the weights moved");
            Map<String, HostTensor> sa = a.stateTensors();
            Map<String, HostTensor> sb = resumed.stateTensors();
            for (String k : sa.keySet()) {
                assertArrayEquals(sa.get(k).toFloats(), sb.get(k).toFloats(), 0f, k);
            }
            // rows that never had a gradient (the second half) only decayed
            float[] s = start.toFloatArray();
            float[] d = byRows.toFloatArray();
            int last = (ROWS - 1) * COLS;
            assertTrue(Math.abs(d[last]) < Math.abs(s[last]) && Math.abs(d[last]) > 0.99f * Math.abs(s[last]));
        }
    }
}
