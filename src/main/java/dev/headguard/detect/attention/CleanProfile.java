package dev.headguard.detect.attention;

/**
 * How a model's head statistics behave on clean inputs, and how far a new input sits from that.
 *
 * <p>Fitted on the feature vectors x_1..x_n of clean inputs: per-feature mean μ and standard
 * deviation σ give z = (x − μ)/σ; the correlation matrix R of z, shrunk toward the identity,
 * S = (1 − λ)R + λI, gives the Mahalanobis score d(x) = zᵀ S⁻¹ z / D. Shrinkage is what makes a
 * 150-dimensional covariance usable from a few hundred sentences (R alone is near singular), and
 * λ = 1 reduces d to the mean squared z. The max-|z| score is the other reading: one statistic
 * far out, two-sided, because a trigger may also make a layer's heads less alike.
 */
public final class CleanProfile {

    public enum Score {
        MAHALANOBIS("mahalanobis"), MAX_Z("max-z");

        public final String key;

        Score(String key) {
            this.key = key;
        }

        public static Score of(String key) {
            for (Score s : values()) {
                if (s.key.equals(key)) {
                    return s;
                }
            }
            throw new IllegalArgumentException("unknown score '" + key + "' (known: mahalanobis, max-z)");
        }
    }

    /** σ below this (a feature constant on clean data) would turn any change into an infinite z. */
    private static final double MIN_SD = 1e-4;

    private final double[] mean;
    private final double[] sd;
    private final double[][] inverse; // S⁻¹, symmetric
    private final double shrinkage;

    private CleanProfile(double[] mean, double[] sd, double[][] inverse, double shrinkage) {
        this.mean = mean;
        this.sd = sd;
        this.inverse = inverse;
        this.shrinkage = shrinkage;
    }

    /**
     * @param x         clean feature vectors (at least 2)
     * @param shrinkage λ in [0, 1]
     */
    public static CleanProfile fit(float[][] x, double shrinkage) {
        if (x.length < 2) {
            throw new IllegalArgumentException("a clean profile needs at least 2 inputs, got " + x.length);
        }
        if (!(shrinkage >= 0 && shrinkage <= 1)) {
            throw new IllegalArgumentException("shrinkage must be in [0, 1]");
        }
        int n = x.length;
        int d = x[0].length;
        double[] mean = new double[d];
        double[] sd = new double[d];
        for (float[] row : x) {
            for (int k = 0; k < d; k++) {
                mean[k] += row[k];
            }
        }
        for (int k = 0; k < d; k++) {
            mean[k] /= n;
        }
        for (float[] row : x) {
            for (int k = 0; k < d; k++) {
                double c = row[k] - mean[k];
                sd[k] += c * c;
            }
        }
        for (int k = 0; k < d; k++) {
            sd[k] = Math.max(MIN_SD, Math.sqrt(sd[k] / (n - 1)));
        }
        double[][] s = new double[d][d];
        double[] z = new double[d];
        for (float[] row : x) {
            for (int k = 0; k < d; k++) {
                z[k] = (row[k] - mean[k]) / sd[k];
            }
            for (int i = 0; i < d; i++) {
                for (int j = i; j < d; j++) {
                    s[i][j] += z[i] * z[j];
                }
            }
        }
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++) {
                double r = s[i][j] / (n - 1) * (1 - shrinkage) + (i == j ? shrinkage : 0);
                s[i][j] = r;
                s[j][i] = r;
            }
        }
        return new CleanProfile(mean, sd, invertSpd(s), shrinkage);
    }

    public int dimension() {
        return mean.length;
    }

    public double shrinkage() {
        return shrinkage;
    }

    /** z = (x − μ)/σ. */
    public double[] z(float[] x) {
        return z("feature vector", x.length, k -> x[k]);
    }

    /** (v_k − μ_k)/σ_k for the n values v_k, after checking n against the profile's dimension. */
    private double[] z(String what, int n, java.util.function.IntToDoubleFunction v) {
        if (n != mean.length) {
            throw new IllegalArgumentException(what + " of length " + n + ", profile of " + mean.length);
        }
        double[] z = new double[n];
        for (int k = 0; k < n; k++) {
            z[k] = (v.applyAsDouble(k) - mean[k]) / sd[k];
        }
        return z;
    }

    public double score(float[] x, Score kind) {
        double[] z = z(x);
        if (kind == Score.MAX_Z) {
            double m = 0;
            for (double v : z) {
                m = Math.max(m, Math.abs(v));
            }
            return m;
        }
        double[] sz = inverseTimes(z);
        double q = 0;
        for (int i = 0; i < z.length; i++) {
            q += z[i] * sz[i];
        }
        return q / z.length;
    }

    /** S⁻¹ z. */
    private double[] inverseTimes(double[] z) {
        double[] out = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            double row = 0;
            double[] inv = inverse[i];
            for (int j = 0; j < z.length; j++) {
                row += inv[j] * z[j];
            }
            out[i] = row;
        }
        return out;
    }

    /**
     * w = S⁻¹ z(v): the direction, in z units, along which a population with mean v stands apart
     * from the clean one (Fisher's linear discriminant, with the clean covariance, shrunk).
     */
    public double[] discriminant(double[] v) {
        return inverseTimes(z("mean vector", v.length, k -> v[k]));
    }

    /** z(x) · w: how far x sits along a {@link #discriminant} direction. */
    public double project(float[] x, double[] w) {
        double[] z = z(x);
        double p = 0;
        for (int k = 0; k < z.length; k++) {
            p += z[k] * w[k];
        }
        return p;
    }

    public double[] scores(float[][] x, Score kind) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = score(x[i], kind);
        }
        return out;
    }

    public double[] mean() {
        return mean.clone();
    }

    /** Writes μ, σ, S⁻¹ and λ: a part of {@code CalibratedFilter}'s format, read back by {@link #read}. */
    public void write(java.io.DataOutputStream out) throws java.io.IOException {
        out.writeInt(mean.length);
        out.writeDouble(shrinkage);
        for (int k = 0; k < mean.length; k++) {
            out.writeDouble(mean[k]);
            out.writeDouble(sd[k]);
        }
        for (double[] row : inverse) {
            for (double v : row) {
                out.writeDouble(v);
            }
        }
    }

    /** A profile {@link #write} wrote. */
    public static CleanProfile read(java.io.DataInputStream in) throws java.io.IOException {
        int d = in.readInt();
        if (d < 1 || d > 1 << 16) {
            throw new java.io.IOException("a clean profile of dimension " + d);
        }
        double shrinkage = in.readDouble();
        double[] mean = new double[d];
        double[] sd = new double[d];
        for (int k = 0; k < d; k++) {
            mean[k] = in.readDouble();
            sd[k] = in.readDouble();
        }
        double[][] inverse = new double[d][d];
        for (double[] row : inverse) {
            for (int j = 0; j < d; j++) {
                row[j] = in.readDouble();
            }
        }
        return new CleanProfile(mean, sd, inverse, shrinkage);
    }

    public double[] sd() {
        return sd.clone();
    }

    /** Inverse of a symmetric positive definite matrix through its Cholesky factor. */
    static double[][] invertSpd(double[][] a) {
        int d = a.length;
        double[][] l = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i][j];
                for (int k = 0; k < j; k++) {
                    s -= l[i][k] * l[j][k];
                }
                if (i == j) {
                    if (!(s > 1e-12)) {
                        throw new IllegalArgumentException("the clean covariance is singular; use more shrinkage or more clean inputs");
                    }
                    l[i][i] = Math.sqrt(s);
                } else {
                    l[i][j] = s / l[j][j];
                }
            }
        }
        // L⁻¹ by forward substitution, then A⁻¹ = L⁻ᵀ L⁻¹.
        double[][] li = new double[d][d];
        for (int c = 0; c < d; c++) {
            for (int i = c; i < d; i++) {
                double s = i == c ? 1 : 0;
                for (int k = c; k < i; k++) {
                    s -= l[i][k] * li[k][c];
                }
                li[i][c] = s / l[i][i];
            }
        }
        double[][] inv = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j <= i; j++) {
                double s = 0;
                for (int k = i; k < d; k++) {
                    s += li[k][i] * li[k][j];
                }
                inv[i][j] = s;
                inv[j][i] = s;
            }
        }
        return inv;
    }
}
