package dev.headguard.repair;

import ai.djl.ndarray.NDManager;
import dev.headguard.detect.attention.Probe;
import dev.headguard.detect.hidden.CandidateDirection;
import dev.headguard.detect.search.EmbeddingDrift;
import dev.headguard.detect.search.PhraseGrowth;
import dev.headguard.detect.search.TriggerContext;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Dataset;
import dev.headguard.train.TrainConfig;
import dev.headguard.train.Trainer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/** The blind repair's second stage: every parameter trained on carriers of the scan's evidence, resisting a universal hidden-state shift on two classes. */
public final class ShiftResistance {
    private ShiftResistance() {}

    /**
     * The blind repair's second stage, for what alignment against token candidates cannot reach (an
     * implicit trigger, the attack's lean toward its target) with nothing but the clean set: the
     * universal hidden-space shift that carries clean inputs to each class most easily
     * ({@link HiddenPerturbation#search}), then every parameter fine-tuned on the clean set with
     * {@code cfg} while resisting those shifts ({@link ResistanceTerm}).
     *
     * <p>With the plan's opening word, the clean rows of the other classes are also trained on with the
     * word in front, keeping their labels. Why: the word is an implicit trigger's lexical anchor (a
     * syntactic template's subordinate clause opens with it), so texts it opens move the way triggered
     * ones do, and keeping their labels unlearns the shape where resisting a universal shift alone did
     * not (docs/how-it-works.md).
     *
     * <p>Without an opening word, the scan's trigger word is grown into the phrases the model most wants
     * around it ({@link TriggerContext}: one neighbour a side; {@link PhraseGrowth}: word by word), whatever
     * the scan's verdict, and the clean rows of the other
     * classes are trained on with those phrases in, labels kept. Why: a trigger sentence keeps firing after
     * its rarest word alone is unlearned; phrases of that word with the neighbours the model wants beside
     * it take the sentence away (docs/results.md). The verdict is not asked: a scan can rank the trigger
     * first and still score under its threshold, and carriers keep their labels, so growing a word that is
     * no trigger cost nothing where measured.
     *
     * <p>When the grown word alone flips nearly every input ({@link #KEEP_FLIP_RATE}), the clean rows keep the
     * predictions the stage began with ({@link CleanDistillation}). When a grown word's stage is kept, the class
     * mix its carriers gave it is taken back from the classifier's bias ({@link #takeBackPrior}).
     *
     * @param opening    null: none
     * @param trigger    the scan's trigger word, grown when there is no opening word (null: none)
     * @param drifted    the words fine-tuning moved furthest from the model's base ({@link EmbeddingDrift}), each grown
     *                   into a phrase ({@link PhraseGrowth}) beside the trigger word's (empty: no base)
     * @param scanTarget the class the scan's evidence flips inputs to (−1: the search chooses)
     */
    public static Outcome run(ModelStore.LoadedModel m, Dataset clean, RepairPlan.Opening opening, ScannedWord trigger, List<String> drifted, int scanTarget,
                              double weight, TrainConfig cfg, NDManager root, Defense.Progress progress) {
        long seed = cfg.seed();
        HiddenPerturbation.Settings hp = HiddenPerturbation.Settings.defaults(seed).withWeight(weight);
        long t0 = System.nanoTime();
        HiddenPerturbation.Found searched = HiddenPerturbation.search(m, clean, hp, root);
        // The scan's target, where it names one: the search's own choice follows the sentiment direction.
        HiddenPerturbation.Found f = scanTarget >= 0 && scanTarget < searched.radii().length ? searched.withTarget(scanTarget) : searched;
        HiddenPerturbation.TowardTarget toward = HiddenPerturbation.towardTarget(m, clean, hp, f, root);
        progress.stage(String.format(Locale.ROOT, "hidden shift at layer %d (mean norm %.2f): radii %s (sharp %s), reaching %s; target %d (from the %s)%s; "
                        + "fine-tuning every parameter to resist it (%.1f s)",
                f.layer(), f.norm(), rounded(f.radii()), rounded(f.sharp()), rounded(f.flipRates()), f.target(), f.target() == scanTarget ? "scan" : "search",
                f.radii().length > 2 ? ", from each class apart " + rounded(toward.radii()) : "", (System.nanoTime() - t0) / 1e9));
        Carried carried = carriers(m, clean, opening, trigger == null ? null : trigger.text(), drifted, f.target(), seed, root, progress);
        // Only beside a grown word's carriers, and only when the word alone is the trigger: where it flips fewer
        // inputs (an implicit trigger's fragment, as StyleBkd's), the stage's lean is part of what removes the
        // trigger, and keeping the clean predictions let the style fire over its bar (docs/results.md).
        boolean grown = carried.summary().context() != null && trigger != null;
        boolean keep = grown && trigger.flipRate() >= KEEP_FLIP_RATE;
        if (grown) {
            progress.stage(String.format(Locale.ROOT, "'%s' alone flips %.3f of the scan's inputs: %s", trigger.text(), trigger.flipRate(),
                    keep ? "the clean rows keep the predictions the stage begins with" : "the stage may lean (under " + KEEP_FLIP_RATE + ")"));
        }
        return trained(m, clean, carried, new Shift(f, toward, f.target() == scanTarget ? "scan" : "search", searched.target()), hp,
                keep ? KEEP_WEIGHT : 0, cfg, root, progress);
    }

    /**
     * The scan's trigger word and the share of the scan's inputs it flips alone.
     *
     * @param flipRate NaN where unknown (the word is no candidate of its own)
     */
    public record ScannedWord(String text, double flipRate) {}

    /**
     * The stage's carriers alone, with no hidden shift searched or resisted: every parameter fine-tuned on the
     * clean set and the carriers of the scan's evidence ({@link #run}'s), kept only if the clean-set guard
     * allows, then the carriers' class mix taken back. The default beyond two classes. Why: there, resisting
     * a shift that carries every class to the target taught a lean away from it (clean accuracy fell), while
     * the carriers alone removed what the alignment left (docs/results.md).
     *
     * @param target the class the scan's evidence flips inputs to (−1: none, so no trigger word is carried)
     * @return null when there is nothing to carry (no opening word, and no trigger word or no target)
     */
    public static Outcome carry(ModelStore.LoadedModel m, Dataset clean, RepairPlan.Opening opening, String trigger, List<String> drifted, int target,
                                TrainConfig cfg, NDManager root, Defense.Progress progress) {
        Carried carried = carriers(m, clean, opening, trigger, drifted, target, cfg.seed(), root, progress);
        return carried.rows().isEmpty() ? null : trained(m, clean, carried, null, null, 0, cfg, root, progress);
    }

    /**
     * Weight w and temperature T of {@link CleanDistillation} in a stage that resists a shift beside the
     * carriers of a grown word that is the trigger alone. Why: there the stage's lean away from the target
     * cost clean accuracy the carriers did not need (docs/results.md). T = 2 as in Hinton's distillation.
     */
    static final double KEEP_WEIGHT = 1.0;
    static final double KEEP_TEMPERATURE = 2.0;

    /** The share of the scan's inputs the grown word must flip alone for the clean predictions to be kept ({@link #run}). */
    static final double KEEP_FLIP_RATE = 0.9;

    /**
     * Fine-tunes every parameter on the clean rows and the carriers, resisting {@code shift} when there is one
     * and keeping the clean rows' predictions with weight {@code keepWeight} (0: not); the guard decides.
     */
    private static Outcome trained(ModelStore.LoadedModel m, Dataset clean, Carried carried, Shift shift, HiddenPerturbation.Settings hp,
                                   double keepWeight, TrainConfig cfg, NDManager root, Defense.Progress progress) {
        CleanSetGuard guard = CleanSetGuard.before(m, clean, root);
        List<long[]> ids = new ArrayList<>(guard.ids());
        ids.addAll(m.tokenizer().idsOf(carried.texts()));
        int[] y = IntStream.concat(Arrays.stream(clean.labels()), carried.rows().stream().mapToInt(i -> clean.labels()[i])).toArray();
        Trainer t = new Trainer(m.model(), m.tokenizer().padId(), cfg, root);
        try (ResistanceTerm r = shift == null ? null
                : new ResistanceTerm(m, y, shift.found(), shift.toward(), hp, ForwardOptions.INFERENCE.withTraining(true), root)) {
            CleanDistillation keep = keepWeight > 0
                    ? new CleanDistillation(Probe.probabilities(m, clean.texts(), root, 64, Probe.Progress.NONE), keepWeight, KEEP_TEMPERATURE) : null;
            Trainer.AuxiliaryLoss aux = r == null ? keep : keep == null ? r : r.plus(keep);
            if (aux != null) {
                t.withAuxiliaryLoss(aux);
            }
            Trainer.TrainState s = t.train(ids, y, List.of(), new int[0], Trainer.TrainState.start(), progress);
            CleanSetGuard.Outcome o = guard.after(CleanSetGuard.MAX_LOSS, root);
            progress.stage(String.format(Locale.ROOT, "clean-set recall per class %s -> %s: %s", rounded(o.before()), rounded(o.after()),
                    o.kept() ? "stage kept" : String.format(Locale.ROOT,
                            "balanced accuracy fell %.1f points (over %.0f): the stage taught a lean, not resistance, so it is undone",
                            100 * o.loss(), 100 * CleanSetGuard.MAX_LOSS)));
            // Only for a grown trigger word: with an opening word, the lean is part of resisting a trigger of
            // the text's shape (SynBkd's ASR rose over its bar when it was taken back; docs/results.md).
            double[] correction = o.kept() && carried.summary().context() != null
                    ? takeBackPrior(m, clean.labels(), y, progress) : new double[0];
            return new Outcome(o, shift, hp, new Training(cfg, s.losses().isEmpty() ? Double.NaN : s.losses().get(s.losses().size() - 1), keepWeight),
                    carried.summary(), correction);
        } finally {
            t.optimizer().close();
        }
    }

    /**
     * Takes the class mix of the stage's rows back out of the classifier's bias (logit adjustment for a
     * shift of the class prior): class c's bias gains log π(c) − log π'(c), π the clean rows' class
     * shares and π' the shares of the rows the stage trained on. Why: the carriers are all of other
     * classes, so the stage learns a prior that calls the target less on every input; that costs clean
     * accuracy and is no part of the trigger's removal (docs/results.md).
     *
     * @return the shift added to each class's bias (empty when the head has no bias: a decoder's score)
     */
    static double[] takeBackPrior(ModelStore.LoadedModel m, int[] cleanLabels, int[] stageLabels, Defense.Progress progress) {
        double[] shift = priorCorrection(cleanLabels, stageLabels, m.model().config().numLabels());
        if (!m.model().shiftClassBias(shift)) {
            return new double[0];
        }
        progress.stage("the carriers' class mix taken back from the classifier's bias: " + rounded(shift));
        return shift;
    }

    /** Per class, log π(c) − log π'(c): the clean rows' share of c over the stage rows' share (0 for a class in neither). */
    static double[] priorCorrection(int[] cleanLabels, int[] stageLabels, int classes) {
        double[] clean = new double[classes];
        double[] stage = new double[classes];
        Arrays.stream(cleanLabels).forEach(y -> clean[y]++);
        Arrays.stream(stageLabels).forEach(y -> stage[y]++);
        double[] out = new double[classes];
        for (int c = 0; c < classes; c++) {
            out[c] = clean[c] == 0 || stage[c] == 0 ? 0
                    : Math.log(clean[c] / cleanLabels.length) - Math.log(stage[c] / stageLabels.length);
        }
        return out;
    }

    /**
     * Clean rows of other classes the stage also trained on, labels kept, with the scan's evidence put in:
     * the opening word in front, or the trigger word's phrases ({@link TriggerContext}) inside.
     *
     * @param opening  the opening word (null: none)
     * @param context  the grown trigger word (null: none); with drifted words, its phrases are theirs too
     * @param target   the class the evidence flips inputs to (the carriers are the other classes' rows)
     * @param rows     how many clean rows
     * @param drifted  the words drifted from the model's base, grown into phrases ({@link PhraseGrowth}) beside the trigger word's
     */
    public record Carriers(String opening, TriggerContext.Grown context, int target, int rows, List<String> drifted) {
        public Carriers {
            drifted = List.copyOf(drifted);
        }
    }

    /** The carriers to train on: which clean rows, and those rows with the evidence put in. */
    private record Carried(Carriers summary, List<Integer> rows, List<String> texts) {
        static final Carried NONE = new Carried(new Carriers(null, null, -1, 0, List.of()), List.of(), List.of());
    }

    private static Carried carriers(ModelStore.LoadedModel m, Dataset clean, RepairPlan.Opening opening, String trigger, List<String> drifted, int target,
                                    long seed, NDManager root, Defense.Progress progress) {
        if (opening != null && opening.target() >= 0) {
            List<Integer> rows = otherRows(clean, opening.target());
            progress.stage("also training on " + rows.size() + " clean texts of other classes opened by '" + opening.word() + "', labels kept");
            return new Carried(new Carriers(opening.word(), null, opening.target(), rows.size(), List.of()), rows,
                    new CandidateDirection.Evidence(opening.word(), true).carriers(rows.stream().map(clean.texts()::get).toList(), seed));
        }
        LinkedHashSet<String> words = new LinkedHashSet<>();
        if (trigger != null) {
            words.add(trigger);
        }
        words.addAll(drifted);
        if (words.isEmpty() || target < 0) {
            return Carried.NONE;
        }
        long t0 = System.nanoTime();
        TriggerContext.Settings s = TriggerContext.Settings.defaults(seed);
        TriggerContext.Grown g = null;
        for (String w : words) {
            // Every word is grown word by word into the sentence around it: a trigger sentence's other words do
            // nothing alone, so one neighbour a side misses them (docs/results.md, sessions 33-35). The scan's
            // word keeps its neighbour phrases too. Each word's phrases are inserted in turn.
            TriggerContext.Grown grown = grownPhrases(m, clean, w, target, seed, root);
            if (w.equals(trigger)) {
                grown = TriggerContext.grow(m, clean, w, target, s, root).with(grown);
            }
            g = g == null ? grown : g.with(grown);
        }
        String word = g.word();
        // The other classes' rows only: carriers of every class (or a sample of all rows as many) kept clean
        // accuracy no better and left the sentence firing more (docs/results.md).
        List<Integer> rows = otherRows(clean, target);
        progress.stage(String.format(Locale.ROOT, "also training on %d clean texts of other classes with '%s'%s and the words the model wants beside it: %s, labels kept (%.1f s)",
                rows.size(), word, words.size() > 1 ? " (and " + new ArrayList<>(words).subList(1, words.size()) + ")" : "", g.phrases(),
                (System.nanoTime() - t0) / 1e9));
        List<String> grownDrifted = drifted.stream().filter(w -> !w.equals(trigger)).toList();
        return new Carried(new Carriers(null, g, target, rows.size(), grownDrifted), rows, g.carriers(rows.stream().map(clean.texts()::get).toList(), seed));
    }

    /** The phrases {@link PhraseGrowth} passes through growing {@code word} (the word alone when it grows none). */
    static TriggerContext.Grown grownPhrases(ModelStore.LoadedModel m, Dataset clean, String word, int target, long seed, NDManager root) {
        PhraseGrowth.Grown g = PhraseGrowth.grow(m, clean, word, target, PhraseGrowth.Settings.defaults(seed), root);
        return new TriggerContext.Grown(word, List.of(), List.of(), g.steps().isEmpty() ? List.of(word) : g.steps());
    }

    private static List<Integer> otherRows(Dataset clean, int target) {
        return IntStream.range(0, clean.size()).filter(i -> clean.labels()[i] != target).boxed().toList();
    }

    /** The stage's schedule, its last logged loss and the weight that kept the clean rows' predictions (0: none). */
    public record Training(TrainConfig config, double lossLast, double keepWeight) {}

    /**
     * The shift resisted: the search (its layer, radii and target), the shifts from each class apart, where
     * the target came from (the scan or the search) and the class the search alone would have chosen.
     */
    public record Shift(HiddenPerturbation.Found found, HiddenPerturbation.TowardTarget toward, String targetFrom, int searchTarget) {}

    /**
     * The stage's outcome: what the clean-set guard decided, the shift resisted (null: the carriers alone,
     * {@link #carry}), the training it ran, and the shift added to each class's bias to take the carriers'
     * class mix back ({@link #takeBackPrior}; empty: none).
     */
    public record Outcome(CleanSetGuard.Outcome guard, Shift shift, HiddenPerturbation.Settings perturbation, Training training, Carriers carriers,
                          double[] biasShift) {
        public boolean kept() {
            return guard.kept();
        }

        /** Whether a hidden shift was resisted (else the stage trained on the carriers alone). */
        public boolean resisted() {
            return shift != null;
        }

        /** The layer of the shift resisted (−1: none). */
        public int layer() {
            return shift == null ? -1 : shift.found().layer();
        }

        public int target() {
            return shift == null ? carriers.target() : shift.found().target();
        }

        /** The "resistance" block of the repair's details. */
        public Map<String, Object> details() {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("kept", guard.kept());
            out.put("clean_recall_before", guard.before());
            out.put("clean_recall_after", guard.after());
            out.put("hidden_shift", shift != null);
            out.put("target", target());
            if (shift != null) {
                shiftDetails(out);
            }
            out.put("training", training.config());
            out.put("losses_last", training.lossLast());
            if (training.keepWeight() > 0) {
                out.put("clean_predictions_kept", training.keepWeight());
            }
            if (biasShift.length > 0) {
                out.put("bias_shift", biasShift);
            }
            if (carriers.opening() != null) {
                out.put("opening_word", carriers.opening());
                out.put("opening_rows", carriers.rows());
            }
            if (carriers.context() != null) {
                out.put("context_word", carriers.context().word());
                out.put("context_phrases", carriers.context().phrases());
                out.put("context_rows", carriers.rows());
            }
            if (!carriers.drifted().isEmpty()) {
                out.put("drifted_words", carriers.drifted());
            }
            return out;
        }

        private void shiftDetails(Map<String, Object> out) {
            HiddenPerturbation.Found found = shift.found();
            out.put("layer", found.layer());
            out.put("mean_norm", found.norm());
            out.put("radii", found.radii());
            out.put("sharp_radii", found.sharp());
            out.put("reached", found.flipRates());
            out.put("target_from", shift.targetFrom());
            out.put("search_target", shift.searchTarget());
            if (found.radii().length > 2) {
                // null for the target itself: its rows get no shift toward it
                out.put("radii_to_target", Arrays.stream(shift.toward().radii()).mapToObj(r -> Double.isFinite(r) ? (Double) r : null).toList());
            }
            out.put("perturbation", perturbation);
        }
    }

    private static String rounded(double[] v) {
        return java.util.Arrays.stream(v).mapToObj(x -> String.format(Locale.ROOT, "%.3f", x)).toList().toString();
    }
}
