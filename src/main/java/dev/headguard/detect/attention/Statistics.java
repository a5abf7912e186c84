package dev.headguard.detect.attention;

/** The mean and standard deviation the scans compute their margins and score shifts with. */
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
}
