package dev.headguard.detect.hidden;

import dev.headguard.detect.attention.AttentionFeatures;
import dev.headguard.detect.attention.InputScanner;
import dev.headguard.detect.attention.Probe;

import ai.djl.ndarray.NDManager;
import dev.headguard.model.io.ModelStore;

/**
 * One inference-time filter for every kind of trigger: an input is flagged when the attention scan
 * ({@link InputScanner}: token triggers) or the hidden-state direction learned from suspect inputs
 * ({@link HiddenDirection}: syntax and style too) flags it, each with its threshold at half
 * the false-rejection rate asked for. The two flag lists side by side reject up to twice that rate of
 * clean inputs; their union at half each rejects at most the rate, which is what a user who sets
 * {@code --frr} for a filter expects.
 *
 * <p>An input's score is the larger of its two margins, each in its own calibration standard
 * deviations above its threshold, so that one number ranks the inputs (for an AUROC, or a TSV a
 * person sorts): flagged exactly when it is above 0.
 */
public final class CombinedFilter {
    private final InputScanner attention;
    private final HiddenDirection direction;

    /**
     * @param attention an input scanner calibrated at half the filter's FRR
     * @param direction a direction learned at half the filter's FRR
     */
    public CombinedFilter(InputScanner attention, HiddenDirection direction) {
        this.attention = attention;
        this.direction = direction;
    }

    /**
     * Calibrates both halves on the clean pass and learns the direction from the suspects' states.
     *
     * @param settings the filter's settings: its FRR is the whole filter's
     */
    public static CombinedFilter calibrate(ModelStore.LoadedModel model, Probe.Result clean, AttentionFeatures features, InputScanner.Settings settings,
                                           HiddenStateScan.States cleanStates, HiddenStateScan.States suspects, HiddenStateScan.Settings hidden,
                                           NDManager root) {
        double half = settings.frr() / 2;
        InputScanner a = InputScanner.calibrate(model, clean, features, settings.withFrr(half), root);
        HiddenDirection d = HiddenStateScan.learn(model, cleanStates, suspects, hidden.withFrr(half)).direction();
        return new CombinedFilter(a, d);
    }

    /** Each input's score (above 0: flagged), from its attention features and its [CLS] states. */
    public double[] scores(Probe.Result pass, HiddenStateScan.States states) {
        double[] a = attention.margins(attention.score(pass));
        double[] d = direction.margins(states);
        double[] out = new double[a.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = Math.max(a[i], d[i]);
        }
        return out;
    }

    public InputScanner attention() {
        return attention;
    }

    public HiddenDirection direction() {
        return direction;
    }
}
