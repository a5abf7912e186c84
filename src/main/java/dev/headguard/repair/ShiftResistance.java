package dev.headguard.repair;

import ai.djl.ndarray.NDManager;
import dev.headguard.detect.hidden.CandidateDirection;
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
     * @param opening    null: none
     * @param scanTarget the class the scan's evidence flips inputs to (−1: the search chooses)
     */
    public static Outcome run(ModelStore.LoadedModel m, Dataset clean, RepairPlan.Opening opening, int scanTarget, double weight, TrainConfig cfg,
                              NDManager root, Defense.Progress progress) {
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
        // The carriers: the clean rows of the other classes opened by the word, as the scan tried it, labels kept.
        List<Integer> others = opening == null || opening.target() < 0 ? List.of()
                : IntStream.range(0, clean.size()).filter(i -> clean.labels()[i] != opening.target()).boxed().toList();
        List<long[]> ids = new ArrayList<>(guard.ids());
        int[] y = IntStream.concat(Arrays.stream(clean.labels()), others.stream().mapToInt(i -> clean.labels()[i])).toArray();
        if (!others.isEmpty()) {
            List<String> texts = others.stream().map(clean.texts()::get).toList();
            ids.addAll(m.tokenizer().idsOf(new CandidateDirection.Evidence(opening.word(), true).carriers(texts, seed)));
            progress.stage("also training on " + others.size() + " clean texts of other classes opened by '" + opening.word() + "', labels kept");
        }
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
                    s.losses().isEmpty() ? Double.NaN : s.losses().get(s.losses().size() - 1), new Carriers(others.isEmpty() ? null : opening.word(), others.size()));
        } finally {
            t.optimizer().close();
        }
    }

    /** The opening word's carriers the stage also trained on (word null and 0 rows: none). */
    public record Carriers(String word, int rows) {}

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
            if (carriers.rows() > 0) {
                out.put("opening_word", carriers.word());
                out.put("opening_rows", carriers.rows());
            }
            return out;
        }
    }

    private static String rounded(double[] v) {
        return java.util.Arrays.stream(v).mapToObj(x -> String.format(Locale.ROOT, "%.3f", x)).toList().toString();
    }
}
