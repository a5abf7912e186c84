package dev.headguard.repair;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The carriers' class mix taken back: logit adjustment from the clean rows' prior to the stage's. */
class ShiftResistanceTest {
    @Test
    void eachClassGainsTheLogOfItsCleanShareOverItsStageShare() {
        int[] clean = {0, 0, 1, 1, 1};
        int[] stage = {0, 0, 1, 1, 1, 0, 0}; // two carriers of class 0
        double[] c = ShiftResistance.priorCorrection(clean, stage, 2);
        assertEquals(Math.log(2 / 5.0) - Math.log(4 / 7.0), c[0], 1e-12);
        assertEquals(Math.log(3 / 5.0) - Math.log(3 / 7.0), c[1], 1e-12);
        // two classes: the target's log-odds gain log(1 + K / n_other), K carriers of the other class
        assertEquals(Math.log(1 + 2 / 2.0), c[1] - c[0], 1e-12);
    }

    @Test
    void noCarriersNoCorrectionAndAClassWithoutRowsIsLeftAlone() {
        assertArrayEquals(new double[] {0, 0, 0}, ShiftResistance.priorCorrection(new int[] {0, 1, 1}, new int[] {0, 1, 1}, 3), 1e-12);
    }
}
