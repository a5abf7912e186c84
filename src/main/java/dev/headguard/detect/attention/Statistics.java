package dev.headguard.detect.attention;

import java.util.Arrays;

/** The mean, standard deviation and robust z the scans compute their margins, score shifts and outliers with. */
public final class Statistics {
    private Statistics() {}

    public static double mean(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v;
        }
        return x.length == 0 ? 0 : s / x.length;
    }

    /** Sample standard deviation (n − 1); 0 for fewer than two values. */
    public static double sd(double[] x) {
        double mean = 0;
        for (double v : x) {
            mean += v / x.length;
        }
        double ss = 0;
        for (double v : x) {
            ss += (v - mean) * (v - mean);
        }
        return x.length < 2 ? 0 : Math.sqrt(ss / (x.length - 1));
    }

    /** (x − median) / (1.4826 · MAD) for every value; 0 for all when the MAD is 0. */
    public static double[] robustZ(double[] x) {
        return robustZ(x, x);
    }

    /** Each value of x as (x − median) / (1.4826 · MAD), the median and MAD those of {@code reference}. */
    public static double[] robustZ(double[] x, double[] reference) {
        double[] sorted = reference.clone();
        Arrays.sort(sorted);
        double median = median(sorted);
        double[] deviation = new double[reference.length];
        for (int i = 0; i < reference.length; i++) {
            deviation[i] = Math.abs(reference[i] - median);
        }
        Arrays.sort(deviation);
        double scale = 1.4826 * median(deviation);
        double[] z = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            z[i] = scale > 0 ? (x[i] - median) / scale : 0;
        }
        return z;
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
