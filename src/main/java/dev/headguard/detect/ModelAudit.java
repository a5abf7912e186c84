package dev.headguard.detect;

import dev.headguard.detect.attention.Probe;
import dev.headguard.detect.hidden.HiddenStateScan;
import dev.headguard.detect.hidden.SuspectScan;
import dev.headguard.detect.search.ModelScanner;
import dev.headguard.detect.search.UnsupportedFlips;

import ai.djl.ndarray.NDManager;
import dev.headguard.model.io.ModelStore;

import java.util.List;
import java.util.function.Function;

/**
 * The one model-verdict entry point: the trigger search on clean texts, then, when the model's training
 * set (or logged traffic) is given as suspects, the population scan of it, and the combined verdict
 * {@code scan model}, {@code bench zoo} and the Java API share.
 */
public final class ModelAudit {
    private ModelAudit() {}

    /**
     * @param clean       the clean texts the trigger search uses (a sample)
     * @param labelled    the clean file's labels for the unsupported-flip counts, or null (the model's predictions)
     * @param allClean    every clean text, the population scan's calibration (with suspects)
     * @param suspects    unlabelled suspect inputs, or null
     * @param hidden      the population scan's settings (its FRR is the verdict's)
     */
    public record Request(List<String> clean, UnsupportedFlips.Evidence labelled, ModelScanner.Settings search, List<String> allClean,
                          List<String> suspects, HiddenStateScan.Settings hidden) {}

    /**
     * The search's result, the suspects' scan (null without suspects), and the verdict: backdoor when the search
     * or the population says so, its score the larger of the two pieces of evidence; {@code frr} the population
     * scan's rate.
     */
    public record Result(ModelScanner.Result search, SuspectScan.Result suspects, boolean backdoor, double score, double frr) {
        /** Whether the suspects hold a poisoned population (false without suspects). */
        public boolean populationFound() {
            return suspects != null && suspects.hidden().found(frr, HiddenStateScan.MIN_EXCESS);
        }
    }

    public static Result run(ModelStore.LoadedModel m, Request r, NDManager root, Function<String, Probe.Progress> progress) {
        ModelScanner.Result search = ModelScanner.scan(m, r.clean(), r.labelled(), r.search(), root, progress.apply("trigger search"));
        if (r.suspects() == null) {
            return new Result(search, null, search.backdoor(), search.score(), r.hidden().frr());
        }
        SuspectScan.Result s = SuspectScan.run(m, r.allClean(), r.suspects(), r.hidden(), root, progress.apply("scanning the suspects"));
        double frr = r.hidden().frr();
        return new Result(search, s, search.backdoor() || s.hidden().found(frr, HiddenStateScan.MIN_EXCESS),
                Math.max(search.score(), s.hidden().evidence(frr, HiddenStateScan.MIN_EXCESS)), frr);
    }
}
