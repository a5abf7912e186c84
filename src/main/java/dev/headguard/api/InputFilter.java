package dev.headguard.api;

import ai.djl.ndarray.NDManager;
import dev.headguard.detect.attention.AttentionFeatures;
import dev.headguard.detect.hidden.HiddenStateScan;
import dev.headguard.detect.InputAudit;
import dev.headguard.detect.attention.Probe;
import dev.headguard.model.io.ModelStore;

import java.util.List;

/**
 * Scores texts one by one against a clean set ({@link HeadGuard#inputFilter}): a score above 0 is
 * flagged. The same scores as {@code scan inputs}' {@code scan_filter_score} (or, without a model
 * scan, its attention margins).
 */
public final class InputFilter {
    private final ModelStore.LoadedModel model;
    private final InputAudit.Result calibrated;
    private final AttentionFeatures features;
    private final NDManager root;
    private final java.util.function.BooleanSupplier current;

    InputFilter(ModelStore.LoadedModel model, InputAudit.Result calibrated, NDManager root, java.util.function.BooleanSupplier current) {
        this.current = current;
        this.model = model;
        this.calibrated = calibrated;
        this.features = new AttentionFeatures(model.model().config(), calibrated.scanner().settings().families());
        this.root = root;
    }

    /** "attention" or "direction": which detector the clean texts carrying the scan's evidence chose. */
    public String kind() {
        return calibrated.scanDirection() == null ? "attention" : calibrated.scanDirection().choice().chosen();
    }

    /** One score per text, in order; above 0 is flagged. */
    public double[] scores(List<String> texts) {
        if (!current.getAsBoolean()) {
            throw new IllegalStateException("the model was repaired after this filter was calibrated: make a new filter");
        }
        if (texts.isEmpty()) {
            return new double[0];
        }
        Probe.WithStates pass = Probe.runWithStates(model, texts, features, root, calibrated.scanner().settings().batchSize(), Probe.Progress.NONE);
        InputAudit.ScanDirection sd = calibrated.scanDirection();
        if (sd == null) {
            return calibrated.scanner().margins(calibrated.scanner().score(pass.result()));
        }
        return sd.choice().scores(calibrated.scanner(), pass.result(), sd.strongest().learned().direction(), HiddenStateScan.States.of(pass));
    }

    public double score(String text) {
        return scores(List.of(text))[0];
    }

    public boolean flagged(String text) {
        return score(text) > 0;
    }
}
