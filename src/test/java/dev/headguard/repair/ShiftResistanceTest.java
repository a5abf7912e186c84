package dev.headguard.repair;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    @Test
    void theStageRunsByDefaultOnTwoClassesOnlyAndAGivenWeightIsKept() {
        HeadGuardRepair.Settings byClasses = HeadGuardRepair.Settings.defaults();
        assertEquals(1.0, byClasses.resistWeightFor(2), 0);
        assertEquals(0.0, byClasses.resistWeightFor(4), 0);
        HeadGuardRepair.Settings given = new HeadGuardRepair.Settings(0, 0, false, 200, HeadRepair.Settings.defaults(), 1.0, 3.0, 0.5);
        assertEquals(0.5, given.resistWeightFor(4), 0);
        assertEquals(0.5, given.resistWeightFor(2), 0);
        assertEquals(0.0, byClasses.resolvedFor(3).resistWeight(), 0, "the weight written to the repair's details is the one used");
        assertTrue(byClasses.carriersAloneFor(4), "beyond two classes the default stage trains on its carriers alone");
        assertFalse(byClasses.carriersAloneFor(2));
        assertFalse(given.carriersAloneFor(4), "a given weight resists a shift");
        assertFalse(new HeadGuardRepair.Settings(0, 0, false, 200, HeadRepair.Settings.defaults(), 1.0, 3.0, 0).carriersAloneFor(4), "0 turns the stage off");
    }
}
