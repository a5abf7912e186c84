package dev.headguard.repair;

import ai.djl.ndarray.NDManager;
import dev.headguard.detect.hidden.HiddenStateScan;
import dev.headguard.detect.search.EmbeddingDrift;
import dev.headguard.detect.search.ModelScanner;
import dev.headguard.detect.attention.Probe;
import dev.headguard.detect.hidden.SuspectScan;
import dev.headguard.detect.hidden.SuspectWords;
import dev.headguard.detect.search.UnsupportedFlips;
import dev.headguard.model.ModelConfig;
import dev.headguard.model.HeadId;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Dataset;
import dev.headguard.text.Sample;
import dev.headguard.train.TrainConfig;
import dev.headguard.train.Trainer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * HeadGuard's defense end to end: a model scan (or a given one) names the suspicious heads and
 * trigger candidates; {@link HeadRepair} fine-tunes those heads only, with attention safety
 * alignment against the candidates. With suspect inputs, the words found almost only in the ones
 * the input scan flags become the best candidates (and when they explain the population a
 * {@link HiddenStateScan} flags, they are the only ones: no model scan is made); when they explain
 * few of those inputs (an implicit trigger), {@link SuspectUnlearning} removes what the model
 * learned from that population instead. When they do explain them, the head-wise repair also
 * unlearns those flagged inputs with the trigger words taken out: what the poisoned rows' content
 * taught the model besides the trigger ({@code strippedSuspects}).
 */
public final class HeadGuardRepair implements Defense {

    /**
     * @param heads     repair the scan's top N heads; 0: {@link #headsFor} (a third of the model's heads)
     * @param triggers  align against the scan's top N candidates; 0: as many as {@link RepairPlan#suspiciousCount} says
     * @param allHeads  repair every head (an ablation)
     * @param scanTexts clean texts the scan uses when no plan is given
     * @param unlearnWeight ν of {@link SuspectUnlearning}, for the implicit-trigger repair and for the
     *                      flagged suspects a head-wise repair unlearns beside the alignment (0: the head-wise
     *                      repair unlearns none)
     * @param minExcess the hidden-state scan must flag at least this many times its false-rejection
     *                  rate of the suspects predicted as the target before they are unlearned
     *                  ({@link HiddenStateScan#MIN_EXCESS} by default)
     * @param resistWeight β of the blind repair's second stage ({@link #resist}): with no suspect inputs, every
     *                     parameter is then fine-tuned to resist the hidden-space shift that carries clean inputs
     *                     across classes most easily (0: the head-wise stage alone, an ablation;
     *                     {@link #RESIST_BY_CLASSES}: 1 for two classes; for more, the stage's carriers
     *                     without a shift, {@link ShiftResistance#carry}, and {@link #resistWeightFor} gives 0)
     */
    public record Settings(int heads, int triggers, boolean allHeads, int scanTexts, HeadRepair.Settings repair, double unlearnWeight,
                           double minExcess, double resistWeight) {
        public Settings(int heads, int triggers, boolean allHeads, int scanTexts, HeadRepair.Settings repair) {
            this(heads, triggers, allHeads, scanTexts, repair, 1.0, HiddenStateScan.MIN_EXCESS, RESIST_BY_CLASSES);
        }

        /** A resist weight that {@link #resistWeightFor} reads by the model's number of classes. */
        public static final double RESIST_BY_CLASSES = -1;

        /**
         * β of the resisting stage for a model of {@code classes} classes: the weight given, or by default 1 for
         * two classes and 0 (no shift resisted; the carriers alone) for more. Why: on both four-class victims
         * resisting cost clean accuracy the head-wise stage had kept (a lean away from the target, the weak
         * classes' boundary moved), and the guard, reading the rows it trained on, kept it (docs/results.md).
         */
        public double resistWeightFor(int classes) {
            return resistWeight >= 0 ? resistWeight : classes <= 2 ? 1.0 : 0.0;
        }

        /** Whether the second stage trains on its carriers alone, resisting no shift: the default beyond two classes. */
        public boolean carriersAloneFor(int classes) {
            return resistWeight < 0 && classes > 2;
        }

        /** The same settings with the resist weight resolved for a model of {@code classes} classes. */
        public Settings resolvedFor(int classes) {
            return new Settings(heads, triggers, allHeads, scanTexts, repair, unlearnWeight, minExcess, resistWeightFor(classes));
        }

        public static Settings defaults() {
            return new Settings(0, 0, false, 200, HeadRepair.Settings.defaults());
        }

        /**
         * How many heads to repair in a model of this shape: {@code heads}, or when it is 0 a third of
         * the model's heads ({@link HeadGuardRepair#HEAD_SHARE}): 24 of MiniLM's 72, 48 of bge-small's 144.
         * A share, not a count: a model with twice the heads needed twice as many (docs/how-it-works.md).
         */
        public int headsFor(ModelConfig c) {
            return heads > 0 ? heads : Math.max(1, (int) Math.round(HEAD_SHARE * c.numHiddenLayers() * c.numAttentionHeads()));
        }

        public Settings withSeed(long seed) {
            return new Settings(heads, triggers, allHeads, scanTexts, repair.withSeed(seed), unlearnWeight, minExcess, resistWeight);
        }
    }

    /** The share of a model's heads repaired by default ({@link Settings#headsFor}). */
    public static final double HEAD_SHARE = 1.0 / 3;

    /**
     * The schedule of the unlearning repair: the baselines' (4 epochs, batch 16, AdamW 2e-5, 10% warm-up,
     * linear decay, weight decay 0.01); the decay kept clean accuracy where a constant rate did not
     * (docs/how-it-works.md).
     */
    static TrainConfig unlearningTraining(long seed) {
        return Defense.baselineTraining(seed);
    }

    /**
     * Recovered words that occur in at least this share of the hidden-state scan's flags are the
     * trigger: a token trigger's words are in most flags, an implicit trigger's chance words in few.
     */
    static final double MIN_EXPLAINED = 0.2;

    private static final HiddenStateScan.Settings HIDDEN = HiddenStateScan.Settings.defaults(0);

    private final Settings settings;
    private final Supplier<RepairPlan> given;
    private final List<String> suspect;
    private final Path base;

    /** @param plan a scan's plan, or null to scan first */
    public HeadGuardRepair(Settings settings, RepairPlan plan) {
        this(settings, plan, List.of());
    }

    /**
     * @param plan    a scan's plan, or null to scan first
     * @param suspect unlabelled inputs that may carry the trigger (the model's training data, logged
     *                traffic): an input scan flags some, and the words found almost only in flagged
     *                inputs ({@link SuspectWords}) join the trigger candidates
     */
    public HeadGuardRepair(Settings settings, RepairPlan plan, List<String> suspect) {
        this(settings, plan == null ? null : () -> plan, suspect);
    }

    /**
     * @param plan a scan's plan, made when first asked for (a repair that needs no model scan does not
     *             ask: see {@link #apply}), or null to scan here
     */
    public HeadGuardRepair(Settings settings, Supplier<RepairPlan> plan, List<String> suspect) {
        this(settings, plan, suspect, null);
    }

    private HeadGuardRepair(Settings settings, Supplier<RepairPlan> plan, List<String> suspect, Path base) {
        this.settings = settings;
        this.given = plan;
        this.suspect = List.copyOf(suspect);
        this.base = base;
    }

    /**
     * The same repair, told the public checkpoint the model was fine-tuned from: without suspects, the words
     * whose embedding rows moved furthest from it ({@link EmbeddingDrift}) are grown into carriers beside the
     * scan's trigger word.
     *
     * @param base a model directory with the model's vocabulary (null: none)
     */
    public HeadGuardRepair withBase(Path base) {
        return new HeadGuardRepair(settings, given, suspect, base);
    }

    @Override
    public String name() {
        return "headguard";
    }

    /**
     * The model scan a repair starts from, on a seeded sample of the clean set; its word counts
     * (unsupported flips) come from every labelled clean row, as `scan model`'s do from a labelled file.
     */
    public static RepairPlan scan(ModelStore.LoadedModel m, Dataset clean, Settings settings, NDManager root) {
        return RepairPlan.of(ModelScanner.scan(m, Sample.of(clean.texts(), settings.scanTexts(), settings.repair().seed()),
                new UnsupportedFlips.Evidence(clean.texts(), clean.labels(), true), ModelScanner.Settings.defaults(), root, Probe.Progress.NONE));
    }

    /** The heads to repair: the plan's top {@link Settings#headsFor} that exist in the model, or all. */
    public static Set<HeadId> choose(RepairPlan plan, Settings settings, ModelConfig c) {
        Set<HeadId> chosen = new LinkedHashSet<>();
        for (int l = 0; settings.allHeads() && l < c.numHiddenLayers(); l++) {
            for (int h = 0; h < c.numAttentionHeads(); h++) {
                chosen.add(new HeadId(l, h));
            }
        }
        int n = settings.headsFor(c);
        for (HeadId id : plan.heads()) {
            if (!settings.allHeads() && chosen.size() < n && id.layer() < c.numHiddenLayers() && id.head() < c.numAttentionHeads()) {
                chosen.add(id);
            }
        }
        return chosen;
    }

    @Override
    public RepairOutcome apply(ModelStore.LoadedModel m, Dataset clean, NDManager root, Progress progress) {
        // Before any training: the rows are compared as the attack left them.
        List<String> drifted = suspect.isEmpty() ? drifted(m, clean, root, progress) : List.of();
        Suspects scanned = suspect.isEmpty() ? null : scanSuspects(m, clean, root, progress);
        List<SuspectWords.Finding> recovered = scanned == null ? List.of() : scanned.words();
        boolean explains = false;
        if (scanned != null) {
            // A poisoned population the recovered words do not explain is an implicit trigger (syntax,
            // style: a few of its words may still look suspicious, e.g. "seemeth" in Bible-style rows).
            HiddenStateScan.Result h = scanned.hidden();
            double explained = explained(h, SuspectWords.texts(recovered));
            progress.stage(String.format(Locale.ROOT, "recovered words occur in %.0f%% of the flagged suspects", 100 * explained));
            explains = !recovered.isEmpty() && explained >= MIN_EXPLAINED;
            if (h.found(HIDDEN.frr(), settings.minExcess()) && explained < MIN_EXPLAINED) {
                return unlearn(m, clean, h, root, progress, recovered, explained);
            }
        }
        // Recovered words that explain the flagged population are the trigger itself: the vocabulary
        // search of a model scan could only add words a clean model also reacts to, so it is skipped.
        RepairPlan plan = new RepairPlan(List.of(), List.of(), Double.NaN, false);
        if (!explains) {
            plan = given == null ? null : given.get();
            if (plan == null) {
                progress.stage("scanning the model on " + Math.min(settings.scanTexts(), clean.size()) + " clean texts");
                plan = scan(m, clean, settings, root);
            }
            if (!plan.backdoor() && !Double.isNaN(plan.scanScore())) {
                // Repairing a model the scan calls clean trains against ordinary words (docs/results.md, session 18).
                progress.stage(String.format(Locale.ROOT, "warning: the scan calls the model clean (score %.3f); "
                        + "a repair of a clean model costs clean accuracy", plan.scanScore()));
            }
        }
        RepairPlan used = plan;
        Set<String> union = new LinkedHashSet<>(SuspectWords.texts(recovered));
        if (recovered.isEmpty() || plan.backdoor()) {
            // Recovered words keep the scan's candidates only where the scan itself called the model
            // backdoored (otherwise they are ordinary words that flip a clean model too).
            union.addAll(plan.alignmentCandidates(settings.triggers() > 0 ? settings.triggers() : plan.suspiciousCount()));
        }
        // The heads are ranked by what the repair aligns against: the recovered words when there are
        // some (the better evidence), else the scan's candidates as they will be inserted, not by the scan's
        // best candidate, which may be a phrase alignmentCandidates cuts to one word (docs/how-it-works.md).
        List<String> rankBy = new ArrayList<>(recovered.isEmpty() ? union : SuspectWords.texts(recovered));
        if (!rankBy.isEmpty()) {
            List<String> sample = Sample.of(clean.texts(), 64, settings.repair().seed());
            List<HeadId> ranked = dev.headguard.detect.search.HeadRanking.rankHeadsFor(m, sample, rankBy, settings.repair().seed(), root).stream()
                    .map(h -> new HeadId(h.layer(), h.head())).toList();
            used = plan.withHeads(ranked);
        }
        Set<HeadId> heads = choose(used, settings, m.model().config());
        List<String> triggers = new ArrayList<>(union);
        int copies = HeadRepair.copies(clean.size(), triggers.size());
        progress.stage("repairing " + heads.size() + " heads against " + triggers + " on " + clean.size() + " clean texts"
                + (copies > 1 ? " (" + copies + " copies, each candidate on at least " + HeadRepair.ALIGNED_ROWS_PER_CANDIDATE + ")" : ""));
        HeadRepair.Unlabelled unlearn = explains ? strippedSuspects(scanned.hidden(), SuspectWords.texts(recovered), clean.size(), progress) : null;
        HeadRepair.Result r = HeadRepair.run(m, clean, heads, triggers, settings.repair(), unlearn, root, progress);
        int classes = m.model().config().numLabels();
        double resistWeight = settings.resistWeightFor(classes);
        ShiftResistance.Outcome resisted = null;
        if (suspect.isEmpty() && resistWeight > 0) {
            String word = triggerWord(triggers);
            resisted = ShiftResistance.run(m, clean, plan.opening(), word == null ? null : new ShiftResistance.ScannedWord(word, plan.flipRateOf(word)),
                    drifted, plan.target(), resistWeight,
                    unlearningTraining(settings.repair().seed()), root, progress);
        } else if (suspect.isEmpty() && settings.carriersAloneFor(classes)) {
            progress.stage("no hidden shift resisted for a model of " + classes + " classes (--resist-weight 1 resists it): the stage's carriers alone");
            resisted = ShiftResistance.carry(m, clean, plan.opening(), triggerWord(triggers), drifted, plan.target(),
                    unlearningTraining(settings.repair().seed()), root, progress);
        }
        return new HeadGuardOutcome.Aligned(explains ? null : new HeadGuardOutcome.Scan(plan.scanScore(), plan.backdoor()),
                new HeadGuardOutcome.Alignment(heads.stream().map(h -> h.layer() + ":" + h.head()).toList(), triggers, r.alignedRows(),
                        r.state().losses().isEmpty() ? Double.NaN : r.state().losses().get(r.state().losses().size() - 1)),
                recovered, unlearn == null ? 0 : unlearn.texts().size(), settings.resolvedFor(classes), resisted);
    }

    /** The drifted words against the base (none without one). */
    private List<String> drifted(ModelStore.LoadedModel m, Dataset clean, NDManager root, Progress progress) {
        if (base == null) {
            return List.of();
        }
        try (NDManager sub = root.newSubManager(); ModelStore.LoadedModel b = ModelStore.load(base, sub, 0)) {
            List<EmbeddingDrift.Word> found = EmbeddingDrift.find(m.model(), b.model(), m.tokenizer().words(), clean);
            progress.stage("words whose embeddings moved furthest from " + base + ": "
                    + (found.isEmpty() ? "none" : found.stream().map(w -> String.format(Locale.ROOT, "%s (z %.1f)", w.text(), w.z())).toList()));
            return found.stream().map(EmbeddingDrift.Word::text).toList();
        }
    }

    /**
     * The word to grow carriers from: the single-word candidate that the most candidates contain (ties:
     * the first), else, when every candidate is a phrase, the word at least two of them share; null when
     * there is neither. Why: a trigger sentence's screened word recurs across the candidates while the
     * search's compositions of it (`rainylifting`) stand alone, and the first single word was such a
     * composition on a held-apart sentence (docs/results.md, session 32).
     */
    static String triggerWord(List<String> triggers) {
        List<List<String>> split = triggers.stream().map(t -> List.of(t.strip().split("\\s+"))).filter(w -> !w.get(0).isEmpty()).toList();
        Map<String, Integer> shared = new LinkedHashMap<>();
        for (List<String> candidate : split) {
            for (String w : new LinkedHashSet<>(candidate)) {
                shared.merge(w, 1, Integer::sum);
            }
        }
        List<String> words = split.stream().filter(w -> w.size() == 1).map(w -> w.get(0)).toList();
        int least = words.isEmpty() ? 2 : 1;
        String best = null;
        for (String w : words.isEmpty() ? shared.keySet() : words) {
            int n = shared.get(w);
            if (n >= least && (best == null || n > shared.get(best))) {
                best = w;
            }
        }
        return best;
    }

    /**
     * The implicit-trigger repair: every parameter fine-tuned on the clean set ({@link #unlearningTraining})
     * while the flagged suspects are pulled away from the target ({@link SuspectUnlearning}).
     * All parameters, not the heads alone: a style or syntax shortcut is not carried by a few heads'
     * attention (docs/how-it-works.md).
     */
    private HeadGuardOutcome.Unlearned unlearn(ModelStore.LoadedModel m, Dataset clean, HiddenStateScan.Result h, NDManager root, Progress progress,
                              List<SuspectWords.Finding> recovered, double explained) {
        // Every flagged row: keeping only as many as there are clean rows (those furthest out) removed
        // half as much of a SynBkd backdoor.
        List<Integer> rows = h.flagged();
        progress.stage("fine-tuning on " + clean.size() + " clean texts while unlearning " + rows.size() + " flagged suspects");
        List<long[]> x = new ArrayList<>(m.tokenizer().idsOf(clean.texts()));
        x.addAll(m.tokenizer().idsOf(rows.stream().map(suspect::get).toList()));
        int[] y = java.util.Arrays.copyOf(clean.labels(), x.size());
        java.util.Arrays.fill(y, clean.size(), y.length, -1); // unlabelled: only the unlearning term sees them
        TrainConfig cfg = unlearningTraining(settings.repair().seed());
        // Each flagged row weighs by how far above the threshold it lies (SuspectUnlearning.weights).
        double[] margins = rows.stream().mapToDouble(i -> h.margins()[i]).toArray();
        Trainer t = new Trainer(m.model(), m.tokenizer().padId(), cfg, root)
                .withAuxiliaryLoss(new SuspectUnlearning(clean.size(), settings.unlearnWeight(), h.target(), m.model().config().numLabels(),
                        SuspectUnlearning.TARGET_SHARE, SuspectUnlearning.weights(margins)));
        try {
            Trainer.TrainState s = t.train(x, y, List.of(), new int[0], Trainer.TrainState.start(), progress);
            return new HeadGuardOutcome.Unlearned(new HeadGuardOutcome.Population(h.layer(), h.target(), rows.size(), h.share(), java.util.Arrays.stream(h.shares()).skip(1).boxed().toList()),
                    cfg, settings.resolvedFor(m.model().config().numLabels()), s.losses().isEmpty() ? Double.NaN : s.losses().get(s.losses().size() - 1), recovered, explained);
        } finally {
            t.optimizer().close();
        }
    }

    /**
     * What a dirty-label attack taught besides its trigger, to unlearn beside the alignment: the
     * flagged suspects with the recovered words taken out, at most {@link #STRIPPED_SHARE} times as
     * many as the clean rows (a seeded sample), pulled away from the target by {@link SuspectUnlearning}
     * (weight ν, its τ, rows weighted by their scan margin). Null when the hidden-state scan found no
     * poisoned population or ν is 0.
     *
     * <p>Why: the poisoned rows are non-target sentences labelled as the target, and the model learns
     * part of that from their content, not their trigger; the alignment takes the trigger away but not
     * that lean (docs/how-it-works.md has the figures). The cap keeps OffensEval's repair (1219 flagged
     * rows) under five minutes.
     */
    private HeadRepair.Unlabelled strippedSuspects(HiddenStateScan.Result h, Set<String> words, int cleanRows, Progress progress) {
        if (settings.unlearnWeight() <= 0 || !h.found(HIDDEN.frr(), settings.minExcess())) {
            return null;
        }
        List<Integer> rows = h.flagged();
        int cap = Math.max(1, (int) (STRIPPED_SHARE * cleanRows));
        if (rows.size() > cap) {
            rows = Sample.of(rows, cap, settings.repair().seed());
        }
        List<String> stripped = rows.stream().map(i -> SuspectWords.without(suspect.get(i), words)).toList();
        double[] margins = rows.stream().mapToDouble(i -> h.margins()[i]).toArray();
        progress.stage("also unlearning " + stripped.size() + " of the " + h.flagged().size() + " flagged suspects, with the recovered words taken out");
        return new HeadRepair.Unlabelled(stripped, settings.unlearnWeight(), h.target(), SuspectUnlearning.TARGET_SHARE,
                SuspectUnlearning.weights(margins));
    }

    /** At most this many unlearned rows per clean row in {@link #strippedSuspects}. */
    static final double STRIPPED_SHARE = 0.5;

    /** Share of the flagged suspects that contain one of the recovered words or phrases (0 when none were). */
    private double explained(HiddenStateScan.Result h, Set<String> words) {
        if (words.isEmpty() || h.flagged().isEmpty()) {
            return 0;
        }
        int n = 0;
        for (int i : h.flagged()) {
            n += SuspectWords.containsAny(suspect.get(i), words) ? 1 : 0;
        }
        return n / (double) h.flagged().size();
    }

    /** What the suspect inputs gave: the words found almost only in flagged ones, and the hidden-state scan. */
    private record Suspects(List<SuspectWords.Finding> words, HiddenStateScan.Result hidden) {}

    /** Both scans of the suspect inputs, from one pass over them ({@link SuspectScan}). */
    private Suspects scanSuspects(ModelStore.LoadedModel m, Dataset clean, NDManager root, Progress progress) {
        progress.stage("input scan of " + suspect.size() + " suspect inputs (calibrated on the " + clean.size() + " clean texts)");
        HiddenStateScan.Settings hs = HIDDEN.withSeed(settings.repair().seed());
        SuspectScan.Result r = SuspectScan.run(m, clean.texts(), suspect, hs, root, Probe.Progress.NONE);
        List<SuspectWords.Finding> found = r.words();
        progress.stage("flagged " + r.inputs().flaggedCount() + " of " + suspect.size() + "; words found almost only in flagged inputs: "
                + (found.isEmpty() ? "none" : SuspectWords.texts(found)));
        HiddenStateScan.Result h = r.hidden();
        progress.stage(String.format(Locale.ROOT, "hidden-state scan: layer %d flags %d of the %d suspects predicted %d (%.1f%%; %.1f%% expected of clean inputs)",
                h.layer(), h.flagged().size(), h.targetPredicted(), h.target(), 100 * h.share(), 100 * HIDDEN.frr()));
        return new Suspects(found, h);
    }
}
