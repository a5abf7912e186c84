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
}
