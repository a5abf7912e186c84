package dev.headguard.repair;

import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.detect.search.ContinuationSearch;
import dev.headguard.detect.search.Openings;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.PromptResponse;
import dev.headguard.text.ResponseEncoding;
import dev.headguard.train.ResponseLoss;
import dev.headguard.train.TrainConfig;
import dev.headguard.train.Trainer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A defense of a decoder language model from a small clean prompt/response set, blind to the trigger
 * and the target: HeadGuard (the continuation search, then {@link GenerationRepair} against what it
 * found), or a baseline on the same rows: full fine-tuning, fine-pruning ({@link GenerationFinePruning}),
 * CROW ({@link Crow}).
 */
public interface GenerationDefense {
    String name();

    /** Repairs the model in memory; returns what was done (for the provenance). */
    Map<String, Object> apply(ModelStore.LoadedModel m, List<PromptResponse> clean, NDManager root, Defense.Progress progress);

    /** Repairs and writes the model with its provenance, as {@link Defense#applyAndSave} does for classifiers. */
    default Map<String, Object> applyAndSave(ModelStore.LoadedModel m, List<PromptResponse> clean, String cleanFile, Path out, String command, NDManager root,
                                             Defense.Progress progress) {
        long t0 = System.nanoTime();
        Map<String, Object> details = apply(m, clean, root, progress);
        Defense.save(m, name(), cleanFile, clean.size(), details, (System.nanoTime() - t0) / 1e9, out, command);
        return details;
    }

    /** The names {@link #named} knows. */
    List<String> NAMES = List.of("headguard", "finetune", "fineprune", "crow");

    /** The baselines' fine-tuning of a decoder: every parameter, response loss, 4 epochs, AdamW 2e-4 with 10% warm-up. */
    static TrainConfig fineTuning(long seed) {
        return new TrainConfig(4, 16, 2e-4, 0.01, 0.1, 1.0, seed, 0);
    }

    static GenerationDefense named(String name, long seed) {
        return switch (name) {
            case "headguard" -> new HeadGuard(GenerationRepair.Settings.defaults(), ContinuationSearch.Settings.defaults(seed), TargetShift.Settings.defaults(), 4);
            case "finetune" -> new FineTuning(fineTuning(seed));
            case "fineprune" -> new GenerationFinePruning(GenerationFinePruning.Settings.defaults(seed));
            case "crow" -> new Crow(Crow.Settings.defaults(seed));
            default -> throw new HeadGuardException("--method: " + name + " is not a defense of decoders (" + String.join(", ", NAMES) + ")");
        };
    }

    /**
     * HeadGuard, blind: the continuation search on the clean prompts names candidates; those whose
     * gain reaches the search's threshold and lies within {@link #GAIN_MARGIN} of the best
     * (at most {@code maxTriggers}; the best one when none does) are aligned against.
     */
    record HeadGuard(GenerationRepair.Settings repair, ContinuationSearch.Settings search, TargetShift.Settings shift, int maxTriggers) implements GenerationDefense {
        /**
         * Candidates this far below the best gain are left out: each aligned row carries one candidate,
         * so a phrase that fires on half the prompts takes rows from the trigger, and a Llama victim kept
         * its backdoor (docs/results.md, session 9, with the agreement, where 0.15 was two of 16 prompts).
         */
        static final double GAIN_MARGIN = 0.15;

        @Override
        public String name() {
            return "headguard";
        }

        /**
         * The candidates aligned against, in the search's order: gain at least {@code threshold} and
         * within {@link #GAIN_MARGIN} of the best, at most {@code max}, never one that only echoes
         * ({@link Openings#echoes}); the first one when none is.
         */
        static List<String> chosen(List<ContinuationSearch.Candidate> candidates, double threshold, int max) {
            List<ContinuationSearch.Candidate> real = candidates.stream().filter(c -> !Openings.echoes(c.trigger(), c.output())).toList();
            double best = real.stream().mapToDouble(ContinuationSearch.Candidate::gain).max().orElse(0);
            List<String> out = new ArrayList<>();
            for (ContinuationSearch.Candidate c : real) {
                if (out.size() < max && c.gain() >= threshold && c.gain() >= best - GAIN_MARGIN) {
                    out.add(c.trigger());
                }
            }
            if (out.isEmpty() && !candidates.isEmpty()) {
                out.add(candidates.get(0).trigger());
            }
            return out;
        }

        @Override
        public Map<String, Object> apply(ModelStore.LoadedModel m, List<PromptResponse> clean, NDManager root, Defense.Progress progress) {
            ContinuationSearch.Result scan = ContinuationSearch.scan(m, clean.stream().map(PromptResponse::prompt).toList(), search, root, progress::stage);
            List<String> triggers = chosen(scan.candidates(), search.threshold(), maxTriggers);
            String target = scan.candidates().stream().filter(c -> c.trigger().equals(triggers.get(0))).map(c -> Openings.openingText(c.output()))
                    .findFirst().orElse("");
            progress.stage("aligning against " + triggers + (target.isBlank() ? "" : ", and a hidden shift toward \"" + target + "\"") + " (scan: "
                    + (scan.backdoor() ? "backdoor" : "no backdoor") + ", score " + String.format(java.util.Locale.ROOT, "%.3f", scan.score()) + ")");
            GenerationRepair.Result r = GenerationRepair.run(m, clean, triggers, target, repair, shift, root, progress);
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("scan_backdoor", scan.backdoor());
            d.put("scan_score", scan.score());
            d.put("scan_seconds", scan.seconds());
            d.put("triggers", triggers);
            d.put("elicited", scan.candidates().isEmpty() ? "" : scan.candidates().get(0).output());
            d.put("heads", r.heads().stream().map(h -> h.layer() + "." + h.head()).toList());
            d.put("rows", r.rows());
            if (r.shift() != null) {
                Map<String, Object> shifted = new LinkedHashMap<>();
                shifted.put("target", target);
                shifted.put("radius", r.shift().radius());
                shifted.put("reached", r.shift().share());
                d.put("target_shift", shifted);
            }
            d.put("repair_seconds", r.seconds());
            return d;
        }
    }

    /** Every parameter fine-tuned on the clean rows with the response loss. */
    record FineTuning(TrainConfig config) implements GenerationDefense {
        @Override
        public String name() {
            return "finetune";
        }

        @Override
        public Map<String, Object> apply(ModelStore.LoadedModel m, List<PromptResponse> clean, NDManager root, Defense.Progress progress) {
            ResponseEncoding.Encoding e = ResponseEncoding.encode(m.tokenizer(), clean, m.model().config().decoder().eosTokenId());
            Trainer t = new Trainer(m.model(), m.tokenizer().padId(), config, root).withAuxiliaryLoss(ResponseLoss.asTrainingLoss(m.model(), e.rows()));
            try {
                t.train(e.rows().stream().map(ResponseEncoding.Encoded::ids).toList(), ResponseLoss.unlabelled(e.rows().size()), List.of(), new int[0],
                        Trainer.TrainState.start(), progress);
            } finally {
                t.optimizer().close();
            }
            return Map.of("train_config", config, "rows", e.rows().size());
        }
    }
}
