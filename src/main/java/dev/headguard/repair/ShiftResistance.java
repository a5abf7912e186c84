package dev.headguard.repair;

import ai.djl.ndarray.NDManager;
import dev.headguard.detect.hidden.CandidateDirection;
import dev.headguard.detect.search.TriggerContext;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Dataset;
import dev.headguard.train.TrainConfig;
import dev.headguard.train.Trainer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/** The blind repair's second stage: every parameter trained to resist a universal hidden-state shift. */
public final class ShiftResistance {
    private ShiftResistance() {}

    /**
     * The blind repair's second stage, for what alignment against token candidates cannot reach (an
     * implicit trigger, the attack's lean toward its target) with nothing but the clean set: the
     * universal hidden-space shift that carries clean inputs to each class most easily
     * ({@link HiddenPerturbation#search}), then every parameter fine-tuned on the clean set with
     * {@code cfg} while resisting those shifts ({@link HiddenPerturbation.Resistance}).
     *
     * <p>With the plan's opening word, the clean rows of the other classes are also trained on with the
     * word in front, keeping their labels. Why: the word is an implicit trigger's lexical anchor (a
     * syntactic template's subordinate clause opens with it), so texts it opens move the way triggered
     * ones do, and keeping their labels unlearns the shape where resisting a universal shift alone did
     * not (docs/how-it-works.md).
     *
     * <p>Without an opening word, the scan's trigger word (when it called the model backdoored) is grown into
     * the phrases the model most wants around it ({@link TriggerContext}), and the clean rows of the other
     * classes are trained on with those phrases in, labels kept. Why: a trigger sentence keeps firing after
     * its rarest word alone is unlearned; phrases of that word with the neighbours the model wants beside
     * it take the sentence away (docs/results.md).
     *
     * @param opening    null: none
     * @param trigger    the scan's trigger word, grown when there is no opening word (null: none)
     * @param scanTarget the class the scan's evidence flips inputs to (−1: the search chooses)
     */
    public static Outcome run(ModelStore.LoadedModel m, Dataset clean, RepairPlan.Opening opening, String trigger, int scanTarget, double weight,
                              TrainConfig cfg, NDManager root, Defense.Progress progress) {
        long seed = cfg.seed();
        HiddenPerturbation.Settings hp = HiddenPerturbation.Settings.defaults(seed).withWeight(weight);
        long t0 = System.nanoTime();
        HiddenPerturbation.Found searched = HiddenPerturbation.search(m, clean, hp, root);
        // The scan's target, where it names one: the search's own choice follows the sentiment direction.
        HiddenPerturbation.Found f = scanTarget >= 0 && scanTarget < searched.radii().length ? searched.withTarget(scanTarget) : searched;
        progress.stage(String.format(Locale.ROOT, "hidden shift at layer %d (mean norm %.2f): radii %s (sharp %s), reaching %s; target %d (from the %s); "
                        + "fine-tuning every parameter to resist it (%.1f s)",
                f.layer(), f.norm(), rounded(f.radii()), rounded(f.sharp()), rounded(f.flipRates()), f.target(), f.target() == scanTarget ? "scan" : "search", (System.nanoTime() - t0) / 1e9));
        CleanSetGuard guard = CleanSetGuard.before(m, clean, root);
        Carried carried = carriers(m, clean, opening, trigger, f.target(), seed, root, progress);
        List<long[]> ids = new ArrayList<>(guard.ids());
        ids.addAll(m.tokenizer().idsOf(carried.texts()));
        int[] y = IntStream.concat(Arrays.stream(clean.labels()), carried.rows().stream().mapToInt(i -> clean.labels()[i])).toArray();
        Trainer t = new Trainer(m.model(), m.tokenizer().padId(), cfg, root);
        try (HiddenPerturbation.Resistance r = new HiddenPerturbation.Resistance(m, y, f, hp, ForwardOptions.INFERENCE.withTraining(true), root)) {
            t.withAuxiliaryLoss(r);
            Trainer.TrainState s = t.train(ids, y, List.of(), new int[0], Trainer.TrainState.start(), progress);
            CleanSetGuard.Outcome o = guard.after(CleanSetGuard.MAX_LOSS, root);
            progress.stage(String.format(Locale.ROOT, "clean-set recall per class %s -> %s: %s", rounded(o.before()), rounded(o.after()),
                    o.kept() ? "stage kept" : String.format(Locale.ROOT,
                            "balanced accuracy fell %.1f points (over %.0f): the stage taught a lean, not resistance, so it is undone",
                            100 * o.loss(), 100 * CleanSetGuard.MAX_LOSS)));
            return new Outcome(o, f, f.target() == scanTarget ? "scan" : "search", searched.target(), hp, cfg,
                    s.losses().isEmpty() ? Double.NaN : s.losses().get(s.losses().size() - 1), carried.summary());
        } finally {
            t.optimizer().close();
        }
    }

    /**
     * Clean rows of other classes the stage also trained on, labels kept, with the scan's evidence put in:
     * the opening word in front, or the trigger word's phrases ({@link TriggerContext}) inside.
     *
     * @param opening  the opening word (null: none)
     * @param context  the grown trigger word (null: none)
     * @param rows     how many clean rows
     */
    public record Carriers(String opening, TriggerContext.Grown context, int rows) {}

    /** The carriers to train on: which clean rows, and those rows with the evidence put in. */
    private record Carried(Carriers summary, List<Integer> rows, List<String> texts) {
        static final Carried NONE = new Carried(new Carriers(null, null, 0), List.of(), List.of());
    }

    private static Carried carriers(ModelStore.LoadedModel m, Dataset clean, RepairPlan.Opening opening, String trigger, int target, long seed,
                                    NDManager root, Defense.Progress progress) {
        if (opening != null && opening.target() >= 0) {
            List<Integer> rows = otherRows(clean, opening.target());
            progress.stage("also training on " + rows.size() + " clean texts of other classes opened by '" + opening.word() + "', labels kept");
            return new Carried(new Carriers(opening.word(), null, rows.size()), rows,
                    new CandidateDirection.Evidence(opening.word(), true).carriers(rows.stream().map(clean.texts()::get).toList(), seed));
        }
        if (trigger == null || target < 0) {
            return Carried.NONE;
        }
        long t0 = System.nanoTime();
        TriggerContext.Grown g = TriggerContext.grow(m, clean, trigger, target, TriggerContext.Settings.defaults(seed), root);
        // The other classes' rows only: carriers of every class (or a sample of all rows as many) kept clean
        // accuracy no better and left the sentence firing more (docs/results.md).
        List<Integer> rows = otherRows(clean, target);
        progress.stage(String.format(Locale.ROOT, "also training on %d clean texts of other classes with '%s' and the words the model wants beside it: %s, labels kept (%.1f s)",
                rows.size(), trigger, g.phrases(), (System.nanoTime() - t0) / 1e9));
        return new Carried(new Carriers(null, g, rows.size()), rows, g.carriers(rows.stream().map(clean.texts()::get).toList(), seed));
    }

    private static List<Integer> otherRows(Dataset clean, int target) {
        return IntStream.range(0, clean.size()).filter(i -> clean.labels()[i] != target).boxed().toList();
    }

    /**
     * The stage's outcome: what the clean-set guard decided, the shift resisted (its layer, radii, target and
     * where the target came from: the scan or the search), and the training it ran.
     */
    public record Outcome(CleanSetGuard.Outcome guard, HiddenPerturbation.Found found, String targetFrom, int searchTarget,
                          HiddenPerturbation.Settings perturbation, TrainConfig training, double lossLast, Carriers carriers) {
        public boolean kept() {
            return guard.kept();
        }

        public int layer() {
            return found.layer();
        }

        public int target() {
            return found.target();
        }

        /** The "resistance" block of the repair's details. */
        public Map<String, Object> details() {
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("kept", guard.kept());
            out.put("clean_recall_before", guard.before());
            out.put("clean_recall_after", guard.after());
            out.put("layer", found.layer());
            out.put("mean_norm", found.norm());
            out.put("radii", found.radii());
            out.put("sharp_radii", found.sharp());
            out.put("reached", found.flipRates());
            out.put("target", found.target());
            out.put("target_from", targetFrom);
            out.put("search_target", searchTarget);
            out.put("perturbation", perturbation);
            out.put("training", training);
            out.put("losses_last", lossLast);
            if (carriers.opening() != null) {
                out.put("opening_word", carriers.opening());
                out.put("opening_rows", carriers.rows());
            }
            if (carriers.context() != null) {
                out.put("context_word", carriers.context().word());
                out.put("context_phrases", carriers.context().phrases());
                out.put("context_rows", carriers.rows());
            }
            return out;
        }
    }

    private static String rounded(double[] v) {
        return java.util.Arrays.stream(v).mapToObj(x -> String.format(Locale.ROOT, "%.3f", x)).toList().toString();
    }
}
