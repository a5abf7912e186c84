package dev.headguard.repair;

import dev.headguard.detect.hidden.SuspectWords;
import dev.headguard.train.TrainConfig;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What HeadGuard's repair did ({@link HeadGuardRepair#apply}): a head-wise alignment, or the unlearning of an implicit trigger. */
public final class HeadGuardOutcome {
    private HeadGuardOutcome() {}

    /** The model scan's verdict the repair acted on. */
    public record Scan(double score, boolean backdoor) {}

    /** The head-wise stage: the heads (layer:head), the candidates aligned against, rows aligned, the last step's loss. */
    public record Alignment(List<String> heads, List<String> triggers, int alignedRows, double lossLast) {}

    /**
     * A head-wise repair: the scan it acted on (null when recovered words made it unnecessary), the alignment,
     * the words recovered from suspects, the stripped suspects unlearned beside it, and the resisting stage
     * (null with suspects or β = 0).
     */
    public record Aligned(Scan scan, Alignment alignment, List<SuspectWords.Finding> recovered, int unlearnedRows, HeadGuardRepair.Settings settings,
                          ShiftResistance.Outcome resistance) implements RepairOutcome {
        @Override
        public Map<String, Object> details() {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("mode", "head-alignment");
            out.put("model_scan", scan != null);
            if (scan != null) {
                out.put("scan_score", scan.score());
                out.put("scan_backdoor", scan.backdoor());
            }
            out.put("heads", alignment.heads());
            out.put("triggers", alignment.triggers());
            out.put("recovered_from_suspect", recovered);
            out.put("aligned_rows", alignment.alignedRows());
            out.put("unlearned_rows", unlearnedRows);
            out.put("settings", settings);
            out.put("losses_last", alignment.lossLast());
            if (resistance != null) {
                out.put("resistance", resistance.details());
            }
            return out;
        }
    }

    /** The flagged population HeadGuard unlearned (an implicit trigger): its layer, target, size and shares. */
    public record Population(int hiddenLayer, int target, int unlearnedRows, double flaggedShare, List<Double> flaggedSharePerLayer) {}

    /** An implicit-trigger repair: the population unlearned, the training run, and the words the suspects gave (too few to explain it). */
    public record Unlearned(Population population, TrainConfig training, HeadGuardRepair.Settings settings, double lossLast, List<SuspectWords.Finding> recovered,
                            double recoveredShareOfFlagged) implements RepairOutcome {
        @Override
        public Map<String, Object> details() {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("mode", "unlearn-suspects");
            out.put("hidden_layer", population.hiddenLayer());
            out.put("target", population.target());
            out.put("unlearned_rows", population.unlearnedRows());
            out.put("flagged_share", population.flaggedShare());
            out.put("flagged_share_per_layer", population.flaggedSharePerLayer());
            out.put("training", training);
            out.put("settings", settings);
            out.put("losses_last", lossLast);
            out.put("recovered_from_suspect", recovered);
            out.put("recovered_words_share_of_flagged", recoveredShareOfFlagged);
            return out;
        }
    }
}
