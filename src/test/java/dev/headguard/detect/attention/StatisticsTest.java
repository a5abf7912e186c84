package dev.headguard.detect.attention;


import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The clean profile's algebra and the detection metrics, against hand computations. */
class StatisticsTest {

    @Property(tries = 40)
    void theInverseOfASymmetricPositiveDefiniteMatrixIsOne(@ForAll @IntRange(min = 1, max = 30) int d, @ForAll long seed) {
        Random r = new Random(seed);
        double[][] b = new double[d][d];
        for (double[] row : b) {
            for (int j = 0; j < d; j++) {
                row[j] = r.nextGaussian();
            }
        }
        double[][] a = new double[d][d]; // BᵀB + I is SPD
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                for (int k = 0; k < d; k++) {
                    a[i][j] += b[k][i] * b[k][j];
                }
                a[i][j] += i == j ? 1 : 0;
            }
        }
        double[][] inv = CleanProfile.invertSpd(a);
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                double s = 0;
                for (int k = 0; k < d; k++) {
                    s += a[i][k] * inv[k][j];
                }
                assertEquals(i == j ? 1 : 0, s, 1e-7);
            }
        }
    }

    @Test
    void fullShrinkageIsTheMeanSquaredZAndMaxZIsTheLargestOne() {
        float[][] x = {{1, 10}, {3, 10}, {2, 14}, {2, 6}};
        CleanProfile p = CleanProfile.fit(x, 1.0);
        // mean (2, 10); sd (√(2/3), √(32/3))
        float[] q = {4, 10 + (float) Math.sqrt(32 / 3.0)};
        double z1 = 2 / Math.sqrt(2 / 3.0);
        assertEquals((z1 * z1 + 1) / 2, p.score(q, CleanProfile.Score.MAHALANOBIS), 1e-5);
        assertEquals(z1, p.score(q, CleanProfile.Score.MAX_Z), 1e-5);
        assertEquals(0, p.score(new float[] {2, 10}, CleanProfile.Score.MAHALANOBIS), 1e-9);
    }

    @Test
    void theDiscriminantProjectsOnThePopulationShiftInZUnits() {
        float[][] x = {{1, 10}, {3, 10}, {2, 14}, {2, 6}};
        CleanProfile p = CleanProfile.fit(x, 1.0); // S = I: w = z(v)
        double s1 = Math.sqrt(2 / 3.0);
        double s2 = Math.sqrt(32 / 3.0);
        double[] w = p.discriminant(new double[] {2 + s1, 10});
        assertEquals(1, w[0], 1e-9);
        assertEquals(0, w[1], 1e-9);
        assertEquals(3, p.project(new float[] {2 + 3 * (float) s1, 10 + 5 * (float) s2}, w), 1e-5, "only the shifted feature counts");
        assertEquals(-1, p.project(new float[] {2 - (float) s1, 10}, w), 1e-5);
        // With correlated features the direction leans against the common variation: two features that move
        // together on clean data, a population shifted along the first only, is told apart by their difference.
        CleanProfile q = CleanProfile.fit(correlatedPairs(), 0.05);
        double[] d = q.discriminant(new double[] {1, 0});
        assertTrue(d[0] > 0 && d[1] < 0, "w = " + java.util.Arrays.toString(d));
        assertTrue(q.project(new float[] {1, 0}, d) > 5 * Math.abs(q.project(new float[] {1, 1}, d)), "a clean-looking move projects far less");
    }

    /** 500 pairs (v, v + small noise), v standard normal. */
    private static float[][] correlatedPairs() {
        Random r = new Random(1);
        float[][] x = new float[500][2];
        for (float[] row : x) {
            float v = (float) r.nextGaussian();
            row[0] = v;
            row[1] = v + 0.05f * (float) r.nextGaussian();
        }
        return x;
    }

    @Test
    void correlationMattersWithoutShrinkage() {
        // Two perfectly correlated features: moving both together is normal, moving them apart is not.
        CleanProfile p = CleanProfile.fit(correlatedPairs(), 0.05);
        double together = p.score(new float[] {2, 2}, CleanProfile.Score.MAHALANOBIS);
        double apart = p.score(new float[] {2, -2}, CleanProfile.Score.MAHALANOBIS);
        assertTrue(apart > 20 * together, together + " vs " + apart);
    }

    @Test
    void aurocCountsOrderedPairsAndTiesHalf() {
        assertEquals(1.0, Roc.auroc(new double[] {0, 1, 2}, new double[] {3, 4}), 0);
        assertEquals(0.0, Roc.auroc(new double[] {3, 4}, new double[] {0, 1, 2}), 0);
        assertEquals(0.5, Roc.auroc(new double[] {1, 1}, new double[] {1}), 0);
        // pairs (neg, pos): (0,1) win, (2,1) loss, (0,3) win, (2,3) win -> 3/4
        assertEquals(0.75, Roc.auroc(new double[] {0, 2}, new double[] {1, 3}), 0);
        assertThrows(IllegalArgumentException.class, () -> Roc.auroc(new double[0], new double[] {1}));
    }

    @Test
    void aThresholdSetOnCleanScoresHitsItsRateOnNewCleanScores() {
        Random r = new Random(3);
        double[] cal = new double[2000];
        double[] fresh = new double[20000];
        for (int i = 0; i < cal.length; i++) {
            cal[i] = r.nextGaussian();
        }
        for (int i = 0; i < fresh.length; i++) {
            fresh[i] = r.nextGaussian();
        }
        for (double frr : new double[] {0.01, 0.05, 0.2}) {
            double t = Roc.thresholdAtFrr(cal, frr);
            assertTrue(Roc.flaggedShare(cal, t) <= frr + 1e-12, "at most the rate on the calibration scores");
            assertEquals(frr, Roc.flaggedShare(fresh, t), Math.max(0.006, frr * 0.25), "FRR " + frr + " on fresh clean scores");
        }
        assertThrows(IllegalArgumentException.class, () -> Roc.thresholdAtFrr(cal, 1.0));
    }

    @Test
    void theConformalThresholdIsTheCeilOfNPlusOneTimesOneMinusTheRateSmallestScore() {
        double[] nineteen = new double[19];
        for (int i = 0; i < nineteen.length; i++) {
            nineteen[i] = i + 1; // 1..19
        }
        assertEquals(19, Roc.thresholdAtFrr(nineteen, 0.05), 0, "⌈20 · 0.95⌉ = 19: the largest, nothing of the 19 is flagged");
        assertEquals(18, Roc.thresholdAtFrr(nineteen, 0.1), 0, "⌈20 · 0.9⌉ = 18");
        double[] hundred = new double[99];
        for (int i = 0; i < hundred.length; i++) {
            hundred[i] = i + 1; // 1..99
        }
        assertEquals(95, Roc.thresholdAtFrr(hundred, 0.05), 0, "⌈100 · 0.95⌉ = 95: 4 of 99 above it");
        assertEquals(10, Roc.thresholdAtFrr(new double[] {10, 3}, 0.05), 0, "too few scores for the rate: the largest, nothing is flagged");
    }
}
