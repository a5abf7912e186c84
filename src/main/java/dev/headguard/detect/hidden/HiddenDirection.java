package dev.headguard.detect.hidden;

import dev.headguard.detect.attention.CleanProfile;
import dev.headguard.detect.attention.Roc;
import dev.headguard.detect.attention.Statistics;

/**
 * The backdoor's direction at one layer, learned from a suspect population, for scoring inputs
 * that were not part of it: the inference-time form of {@link HiddenStateScan}. Learn it once from the
 * model's training set (or a batch of logged traffic) and score each new input on its own.
 *
 * @param layer     hidden layer of the [CLS] state
 * @param target    the class whose inputs are scored; others get −∞
 * @param profile   the clean profile of that class at that layer
 * @param w         Fisher's direction in the profile's z units
 * @param threshold the clean calibration rows' (1 − FRR) quantile along w
 * @param sd        their standard deviation along w: the unit of a margin
 */
public record HiddenDirection(int layer, int target, CleanProfile profile, double[] w, double threshold, double sd) {
    static HiddenDirection fit(int layer, int target, CleanProfile profile, float[][] calibration, double[] suspectMean, double frr) {
        double[] w = profile.discriminant(suspectMean);
        double[] cal = new double[calibration.length];
        for (int i = 0; i < cal.length; i++) {
            cal[i] = profile.project(calibration[i], w);
        }
        return new HiddenDirection(layer, target, profile, w, Roc.thresholdAtFrr(cal, frr), Math.max(Statistics.sd(cal), 1e-12));
    }

    /** How far above the threshold a state lies, in calibration standard deviations (positive: flagged). */
    public double margin(float[] state) {
        return (profile.project(state, w) - threshold) / sd;
    }

    /** Margins of every input (−∞ where the model does not predict the target). */
    public double[] margins(HiddenStateScan.States x) {
        double[] out = new double[x.predicted().length];
        for (int i = 0; i < out.length; i++) {
            out[i] = x.predicted()[i] == target ? margin(x.cls()[layer][i]) : Double.NEGATIVE_INFINITY;
        }
        return out;
    }

    /** Writes the direction: a part of {@code CalibratedFilter}'s format, read back by {@link #read}. */
    public void write(java.io.DataOutputStream out) throws java.io.IOException {
        out.writeInt(layer);
        out.writeInt(target);
        profile.write(out);
        for (double v : w) {
            out.writeDouble(v);
        }
        out.writeDouble(threshold);
        out.writeDouble(sd);
    }

    public static HiddenDirection read(java.io.DataInputStream in) throws java.io.IOException {
        int layer = in.readInt();
        int target = in.readInt();
        CleanProfile profile = CleanProfile.read(in);
        double[] w = new double[profile.dimension()];
        for (int k = 0; k < w.length; k++) {
            w[k] = in.readDouble();
        }
        return new HiddenDirection(layer, target, profile, w, in.readDouble(), in.readDouble());
    }
}
