package dev.headguard.detect.attention;

import java.util.Arrays;

/**
 * Detection metrics over scores where higher means more suspicious. "Negatives" are clean
 * inputs, "positives" triggered ones. FRR: share of clean inputs rejected; FAR: share of
 * triggered inputs accepted.
 */
public final class Roc {
    private Roc() {}

    /** Area under the ROC curve: P(score of a positive > score of a negative), ties counted half. */
    public static double auroc(double[] negatives, double[] positives) {
        if (negatives.length == 0 || positives.length == 0) {
            throw new IllegalArgumentException("AUROC needs both clean and triggered scores");
        }
        double[] neg = negatives.clone();
        Arrays.sort(neg);
        double sum = 0;
        for (double p : positives) {
            int below = lowerBound(neg, p);
            int notAbove = upperBound(neg, p);
            sum += below + 0.5 * (notAbove - below);
        }
        return sum / ((double) neg.length * positives.length);
    }

    /**
     * The conformal threshold: the ⌈(n+1)(1 − frr)⌉-th smallest of the n {@code clean} scores (the
     * largest where that exceeds n). A new clean input exchangeable with them scores above it with
     * probability at most {@code frr}; inputs scoring above t are flagged.
     */
    public static double thresholdAtFrr(double[] clean, double frr) {
        if (clean.length == 0) {
            throw new IllegalArgumentException("no clean scores to calibrate on");
        }
        if (!(frr >= 0 && frr < 1)) {
            throw new IllegalArgumentException("the false-rejection rate must be in [0, 1)");
        }
        double[] s = clean.clone();
        Arrays.sort(s);
        int k = (int) Math.ceil((s.length + 1) * (1 - frr) - 1e-9);
        return s[Math.max(1, Math.min(s.length, k)) - 1];
    }

    /** Share of scores above the threshold. */
    public static double flaggedShare(double[] scores, double threshold) {
        int n = 0;
        for (double s : scores) {
            n += s > threshold ? 1 : 0;
        }
        return scores.length == 0 ? 0 : n / (double) scores.length;
    }

    private static int lowerBound(double[] a, double v) {
        int lo = 0;
        int hi = a.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (a[mid] < v) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private static int upperBound(double[] a, double v) {
        int lo = 0;
        int hi = a.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (a[mid] <= v) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }
}
