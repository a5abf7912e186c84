package dev.headguard.detect;

import ai.djl.ndarray.NDManager;
import dev.headguard.detect.attention.Roc;
import dev.headguard.detect.search.ContinuationSearch;
import dev.headguard.detect.search.HeadRanking;
import dev.headguard.detect.search.ModelScanner;
import dev.headguard.inference.TargetLikelihood;
import dev.headguard.model.io.ModelStore;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A decoder language model's verdict entry point: the continuation search on clean prompts (trigger
 * and target unknown), then the heads its strongest candidate changes most, as a classifier's scan
 * ranks them. {@code scan model} on a decoder calls it.
 */
public final class ContinuationAudit {
    private ContinuationAudit() {}

    /**
     * The search; the heads under its strongest candidate, best first, and each layer's mean head
     * similarity (empty when the search checked no candidate); the clean prompts they were ranked on
     * and the same prompts with the candidate in.
     */
    public record Result(ContinuationSearch.Result search, List<ModelScanner.Head> heads, List<ModelScanner.Layer> layers, List<String> clean,
                         List<String> triggered) {
        /** The candidate the heads were ranked under ("" when none). */
        public String strongest() {
            return search.candidates().isEmpty() ? "" : search.candidates().get(0).trigger();
        }
    }

    public static Result run(ModelStore.LoadedModel m, List<String> cleanPrompts, ContinuationSearch.Settings settings, NDManager root, Consumer<String> stage) {
        ContinuationSearch.Result search = ContinuationSearch.scan(m, cleanPrompts, settings, root, stage);
        List<ModelScanner.Layer> layers = new ArrayList<>();
        List<String> triggered = new ArrayList<>();
        if (search.candidates().isEmpty()) {
            return new Result(search, List.of(), List.of(), List.of(), List.of());
        }
        String best = search.candidates().get(0).trigger();
        stage.accept("ranking heads under '" + best + "'");
        List<ModelScanner.Head> heads = HeadRanking.rankHeadsForContinuation(m, cleanPrompts, best, settings.seed(), root, layers, triggered);
        return new Result(search, heads, layers, cleanPrompts.subList(0, triggered.size()), triggered);
    }

    /**
     * The decoder filter's threshold: the clean prompts' (1 − FRR) quantile of how likely each makes
     * the elicited target ({@code scan inputs} and the Java API's filter calibrate the same way).
     */
    public static double targetThreshold(ModelStore.LoadedModel m, List<String> cleanPrompts, String target, double frr, NDManager root) {
        return Roc.thresholdAtFrr(TargetLikelihood.scores(m, cleanPrompts, target, root), frr);
    }
}
