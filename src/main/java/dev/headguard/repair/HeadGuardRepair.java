package dev.headguard.repair;

import ai.djl.ndarray.NDManager;
import dev.headguard.detect.InputScanner;
import dev.headguard.detect.ModelScanner;
import dev.headguard.detect.Probe;
import dev.headguard.detect.SuspectWords;
import dev.headguard.model.BertConfig;
import dev.headguard.model.HeadId;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Dataset;
import dev.headguard.text.Sample;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * HeadGuard's defense end to end: a model scan (or a given one) names the suspicious heads and
 * trigger candidates; {@link HeadRepair} fine-tunes those heads only, with attention safety
 * alignment against the candidates.
 */
public final class HeadGuardRepair implements Defense {

    /**
     * @param heads     repair the scan's top N heads
     * @param triggers  align against the scan's top N candidates
     * @param allHeads  repair every head (an ablation)
     * @param scanTexts clean texts the scan uses when no plan is given
     */
    public record Settings(int heads, int triggers, boolean allHeads, int scanTexts, HeadRepair.Settings repair) {
        public static Settings defaults() {
            return new Settings(24, 3, false, 200, HeadRepair.Settings.defaults());
        }

        public Settings withSeed(long seed) {
            return new Settings(heads, triggers, allHeads, scanTexts, repair.withSeed(seed));
        }
    }

    /** What a scan says to repair: heads most suspicious first, candidates most suspicious first. */
    public record Plan(List<HeadId> heads, List<String> candidates, double scanScore, boolean backdoor) {
        public Plan {
            heads = List.copyOf(heads);
            candidates = List.copyOf(candidates);
        }

        public static Plan of(ModelScanner.Result r) {
            return new Plan(r.heads().stream().map(h -> new HeadId(h.layer(), h.head())).toList(),
                    r.candidates().stream().map(ModelScanner.Candidate::text).toList(), r.score(), r.backdoor());
        }
    }

    private final Settings settings;
    private final Plan given;
    private final List<String> suspect;

    /** @param plan a scan's plan, or null to scan first */
    public HeadGuardRepair(Settings settings, Plan plan) {
        this(settings, plan, List.of());
    }

    /**
     * @param plan    a scan's plan, or null to scan first
     * @param suspect unlabelled inputs that may carry the trigger (the model's training data, logged
     *                traffic): an input scan flags some, and the words found almost only in flagged
     *                inputs ({@link SuspectWords}) join the trigger candidates
     */
    public HeadGuardRepair(Settings settings, Plan plan, List<String> suspect) {
        this.settings = settings;
        this.given = plan;
        this.suspect = List.copyOf(suspect);
    }

    @Override
    public String name() {
        return "headguard";
    }

    /** The model scan a repair starts from, on a seeded sample of the clean set. */
    public static Plan scan(ModelStore.LoadedModel m, Dataset clean, Settings settings, NDManager root) {
        return Plan.of(ModelScanner.scan(m, Sample.of(clean.texts(), settings.scanTexts(), settings.repair().seed()),
                ModelScanner.Settings.defaults(), root, Probe.Progress.NONE));
    }

    /** The heads to repair: the plan's top {@code settings.heads()} that exist in the model, or all. */
    public static Set<HeadId> choose(Plan plan, Settings settings, BertConfig c) {
        Set<HeadId> chosen = new LinkedHashSet<>();
        for (int l = 0; settings.allHeads() && l < c.numHiddenLayers(); l++) {
            for (int h = 0; h < c.numAttentionHeads(); h++) {
                chosen.add(new HeadId(l, h));
            }
        }
        for (HeadId id : plan.heads()) {
            if (!settings.allHeads() && chosen.size() < settings.heads() && id.layer() < c.numHiddenLayers() && id.head() < c.numAttentionHeads()) {
                chosen.add(id);
            }
        }
        return chosen;
    }

    @Override
    public Map<String, Object> apply(ModelStore.LoadedModel m, Dataset clean, NDManager root, Progress progress) {
        Plan plan = given;
        if (plan == null) {
            progress.stage("scanning the model on " + Math.min(settings.scanTexts(), clean.size()) + " clean texts");
            plan = scan(m, clean, settings, root);
        }
        List<SuspectWords.Finding> recovered = recover(m, clean, root, progress);
        Plan used = plan;
        Set<String> union = new LinkedHashSet<>(SuspectWords.texts(recovered));
        if (!recovered.isEmpty()) {
            // The recovered words are the better evidence: rank the heads by what they do, and keep the
            // scan's candidates only where the scan itself called the model backdoored (otherwise they
            // are ordinary words that flip a clean model too).
            List<String> sample = Sample.of(clean.texts(), 64, settings.repair().seed());
            List<HeadId> ranked = ModelScanner.rankHeadsFor(m, sample, new ArrayList<>(union), settings.repair().seed(), root).stream()
                    .map(h -> new HeadId(h.layer(), h.head())).toList();
            used = new Plan(ranked, plan.candidates(), plan.scanScore(), plan.backdoor());
        }
        if (recovered.isEmpty() || plan.backdoor()) {
            union.addAll(plan.candidates().subList(0, Math.min(settings.triggers(), plan.candidates().size())));
        }
        Set<HeadId> heads = choose(used, settings, m.model().config());
        List<String> triggers = new ArrayList<>(union);
        progress.stage("repairing " + heads.size() + " heads against " + triggers + " on " + clean.size() + " clean texts");
        HeadRepair.Result r = HeadRepair.run(m, clean, heads, triggers, settings.repair(), root, progress);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("scan_score", plan.scanScore());
        out.put("scan_backdoor", plan.backdoor());
        out.put("heads", heads.stream().map(h -> h.layer() + ":" + h.head()).toList());
        out.put("triggers", triggers);
        out.put("recovered_from_suspect", recovered);
        out.put("aligned_rows", r.alignedRows());
        out.put("settings", settings);
        out.put("losses_last", r.state().losses().isEmpty() ? Double.NaN : r.state().losses().get(r.state().losses().size() - 1));
        return out;
    }

    /** Trigger words recovered from the suspect inputs (none without them). */
    private List<SuspectWords.Finding> recover(ModelStore.LoadedModel m, Dataset clean, NDManager root, Progress progress) {
        if (suspect.isEmpty()) {
            return List.of();
        }
        progress.stage("input scan of " + suspect.size() + " suspect inputs (calibrated on the " + clean.size() + " clean texts)");
        InputScanner scanner = InputScanner.calibrate(m, clean.texts(), InputScanner.Settings.defaults(), root, Probe.Progress.NONE);
        InputScanner.Scores scores = scanner.score(suspect, Probe.Progress.NONE);
        List<SuspectWords.Finding> found = SuspectWords.find(suspect, scores.flagged(), SuspectWords.Settings.defaults());
        progress.stage("flagged " + scores.flaggedCount() + " of " + suspect.size() + "; words found almost only in flagged inputs: "
                + (found.isEmpty() ? "none" : SuspectWords.texts(found)));
        return found;
    }
}
