package dev.headguard.detect.hidden;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The hidden-state scan's arithmetic, against hand computations. */
class HiddenStateScanTest {
    /** A direction scores one class: its rate within the class is the asked rate over its share of the clean inputs, capped. */
    @Test
    void aDirectionSpendsTheWholeRejectionBudgetOnItsClass() {
        int[] predicted = {0, 1, 1, 0, 1, 0, 0, 0, 1, 0}; // 4 of 10 predicted 1
        HiddenStateScan.States c = new HiddenStateScan.States(new float[1][10][], predicted);
        java.util.List<Integer> all = java.util.stream.IntStream.range(0, 10).boxed().toList();
        assertEquals(0.05 * 10 / 4, HiddenStateScan.inputFrr(0.05, c, all, 1), 1e-12);
        assertEquals(0.05 * 10 / 6, HiddenStateScan.inputFrr(0.05, c, all, 0), 1e-12);
        assertEquals(0.05 * 2 / 1, HiddenStateScan.inputFrr(0.05, c, java.util.List.of(1, 3), 1), 1e-12, "only the calibration rows count");
        assertEquals(HiddenStateScan.MAX_CLASS_FRR, HiddenStateScan.inputFrr(0.3, c, all, 1), 1e-12, "capped");
        assertEquals(0.05, HiddenStateScan.inputFrr(0.05, c, java.util.List.of(0, 3), 1), 1e-12, "no calibration row of the class: the rate as asked");
    }

    /**
     * A direction learned from carriers (clean row i with the evidence put in) does not see the carriers of the
     * rows its threshold is read from: change them and nothing moves; change a fitting row's and the direction does.
     */
    @Test
    void aCarrierDirectionIgnoresTheCalibrationRowsOwnCarriers(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path dir = dev.headguard.testing.Fixtures.tinyModelDir(tmp, "m", 3);
        try (ai.djl.ndarray.NDManager root = dev.headguard.model.TorchRuntime.newManager();
             dev.headguard.model.io.ModelStore.LoadedModel m = dev.headguard.model.io.ModelStore.load(dir, root, 0)) {
            int n = 240;
            int width = m.model().config().hiddenSize();
            int layers = m.model().config().numHiddenLayers();
            java.util.Random r = new java.util.Random(5);
            float[][][] clean = new float[layers + 1][n][width];
            float[][][] carried = new float[layers + 1][n][width];
            for (int l = 0; l <= layers; l++) {
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < width; j++) {
                        clean[l][i][j] = (float) r.nextGaussian();
                        carried[l][i][j] = clean[l][i][j] + (j == 0 ? 3f : 0f);
                    }
                }
            }
            int[] predicted = new int[n];
            java.util.Arrays.fill(predicted, 1);
            HiddenStateScan.Settings s = HiddenStateScan.Settings.defaults(42);
            HiddenStateScan.States c = new HiddenStateScan.States(clean, predicted);
            HiddenDirection d = HiddenStateScan.learnFromCarriers(m, c, new HiddenStateScan.States(carried, predicted), s).direction();

            java.util.List<Integer> cal = HiddenStateScan.CleanHalves.of(n, s.seed()).cal();
            float[][][] calMoved = copy(carried);
            for (int l = 0; l <= layers; l++) {
                for (int i : cal) {
                    calMoved[l][i][1] += 5f;
                }
            }
            HiddenDirection same = HiddenStateScan.learnFromCarriers(m, c, new HiddenStateScan.States(calMoved, predicted), s).direction();
            org.junit.jupiter.api.Assertions.assertArrayEquals(d.w(), same.w(), 0.0);
            assertEquals(d.threshold(), same.threshold(), 0.0);
            HiddenDirection unpaired = HiddenStateScan.learn(m, c, new HiddenStateScan.States(calMoved, predicted), s).direction();
            org.junit.jupiter.api.Assertions.assertNotEquals(d.w()[1], unpaired.w()[1], 1e-6, "learned as unrelated suspects, every carrier counts");

            int fitRow = java.util.stream.IntStream.range(0, n).filter(i -> !cal.contains(i)).findFirst().orElseThrow();
            float[][][] fitMoved = copy(carried);
            for (int l = 0; l <= layers; l++) {
                fitMoved[l][fitRow][1] += 50f;
            }
            HiddenDirection moved = HiddenStateScan.learnFromCarriers(m, c, new HiddenStateScan.States(fitMoved, predicted), s).direction();
            org.junit.jupiter.api.Assertions.assertNotEquals(d.w()[1], moved.w()[1], 1e-6, "a fitting row's carrier shapes the direction");
        }
    }

    private static float[][][] copy(float[][][] a) {
        float[][][] out = new float[a.length][][];
        for (int l = 0; l < a.length; l++) {
            out[l] = new float[a[l].length][];
            for (int i = 0; i < a[l].length; i++) {
                out[l][i] = a[l][i].clone();
            }
        }
        return out;
    }
}
