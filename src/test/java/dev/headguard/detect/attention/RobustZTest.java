package dev.headguard.detect.attention;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class RobustZTest {

    @Test
    void aFewFarValuesDoNotMoveTheScaleTheyAreMeasuredBy() {
        // Median 3.5 (an even count), absolute deviations {2.5,1.5,0.5,0.5,1.5,96.5}: MAD 1.5.
        double[] x = {1, 2, 3, 4, 5, 100};
        double scale = 1.4826 * 1.5;
        double[] z = Statistics.robustZ(x);
        assertEquals((100 - 3.5) / scale, z[5], 1e-9);
        assertEquals((1 - 3.5) / scale, z[0], 1e-9);
    }

    @Test
    void valuesAreMeasuredAgainstTheReferencesMedianAndScale() {
        double[] reference = {0, 1, 2, 3, 4};
        double scale = 1.4826 * 1;
        assertArrayEquals(new double[] {(10 - 2) / scale, 0}, Statistics.robustZ(new double[] {10, 2}, reference), 1e-9);
        assertArrayEquals(new double[] {0, 0, 0}, Statistics.robustZ(new double[] {5, 5, 5}), "no spread: 0 for all");
    }
}
