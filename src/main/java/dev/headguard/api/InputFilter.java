package dev.headguard.api;

import ai.djl.ndarray.NDManager;
import dev.headguard.detect.CalibratedFilter;
import dev.headguard.detect.attention.InputScanner;
import dev.headguard.detect.attention.Probe;
import dev.headguard.inference.TargetLikelihood;
import dev.headguard.model.io.ModelStore;

import java.util.List;

/**
 * Scores texts one by one against a clean set ({@link HeadGuard#inputFilter}): a score above 0 is
 * flagged. The same scores as {@code scan inputs}' {@code scan_filter_score} (or, without a model
 * scan, its attention margins).
 */
public final class InputFilter {
    private final CalibratedFilter calibrated;
    private final String kind;
    private final java.util.function.Function<List<String>, CalibratedFilter.Scored> scorer;
    private final java.util.function.BooleanSupplier current;

    InputFilter(CalibratedFilter calibrated, NDManager root, java.util.function.BooleanSupplier current) {
        this(calibrated, calibrated.kind(), texts -> calibrated.score(texts, root, Probe.Progress.NONE), current);
    }

    private InputFilter(CalibratedFilter calibrated, String kind, java.util.function.Function<List<String>, CalibratedFilter.Scored> scorer,
                        java.util.function.BooleanSupplier current) {
        this.calibrated = calibrated;
        this.kind = kind;
        this.scorer = scorer;
        this.current = current;
    }

    /**
     * A decoder's filter ({@code scan inputs}' target filter): a prompt's score is the mean log-probability
     * of {@code target}'s tokens after it minus {@code threshold}; its "prediction" is 0 (one kind of prompt).
     */
    static InputFilter ofTarget(ModelStore.LoadedModel model, String target, double threshold, NDManager root, java.util.function.BooleanSupplier current) {
        return new InputFilter(null, "target", texts -> {
            double[] s = TargetLikelihood.scores(model, texts, target, root);
            for (int i = 0; i < s.length; i++) {
                s[i] -= threshold;
            }
            return new CalibratedFilter.Scored(s, new int[s.length]);
        }, current);
    }

    /**
     * How the filter is calibrated: {@code scan inputs}' settings.
     *
     * @param scoring    the attention scan's settings (statistics, distance, shrinkage, by class), the
     *                   false-rejection rate on clean texts and the seed of the clean split and samples
     * @param cleanLimit a seeded sample of so many clean texts (0: all)
     * @param modelScan  let the model scan's evidence choose between the attention scan and a hidden-state
     *                   direction (cached under {@code HEADGUARD_HOME}); false: the attention scan alone
     */
    public record Settings(InputScanner.Settings scoring, int cleanLimit, boolean modelScan) {
        /** scan inputs' defaults: a false-rejection rate of 5%, every clean text, the model scan. */
        public static Settings defaults() {
            return new Settings(InputScanner.Settings.defaults(), 0, true);
        }

        public Settings withFrr(double f) {
            return new Settings(scoring.withFrr(f), cleanLimit, modelScan);
        }
    }

    /**
     * "attention" or "direction": which detector the clean texts carrying the scan's evidence chose; a
     * decoder's: "target" (how likely a prompt makes the output the model scan elicited).
     */
    public String kind() {
        return kind;
    }

    /** One score per text, in order; above 0 is flagged. */
    public double[] scores(List<String> texts) {
        return scored(texts).scores();
    }

    /** Scores (above 0 flagged) and the model's predicted classes, in text order. */
    public CalibratedFilter.Scored scored(List<String> texts) {
        if (!current.getAsBoolean()) {
            throw new IllegalStateException("the model was repaired after this filter was calibrated: make a new filter");
        }
        return scorer.apply(texts);
    }

    public double score(String text) {
        return scores(List.of(text))[0];
    }

    public boolean flagged(String text) {
        return score(text) > 0;
    }

    /** The calibrated filter itself: {@link CalibratedFilter#toBytes} ships it to another JVM holding the same model. */
    public CalibratedFilter calibrated() {
        if (calibrated == null) {
            throw new dev.headguard.HeadGuardException("a decoder's target filter is not shipped as bytes yet: calibrate it in each JVM");
        }
        return calibrated;
    }
}
