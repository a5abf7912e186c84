package dev.headguard.repair;

import ai.djl.ndarray.NDManager;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Dataset;
import dev.headguard.train.TrainConfig;
import dev.headguard.train.Trainer;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A way to remove a backdoor from a model given a small labelled clean set and nothing else (no
 * trigger, no clean reference model). HeadGuard's repair and the baselines it is compared with
 * share this, so that a benchmark gives each the same model, data and budget.
 */
public interface Defense {
    /** Names the CLI and the benchmark use. */
    List<String> NAMES = List.of("headguard", "finetune", "fineprune", "pure");

    String name();

    /**
     * Changes {@code m}'s weights in place.
     *
     * @return what it did (chosen heads, pruned units, ...), typed, with its JSON block
     */
    RepairOutcome apply(ModelStore.LoadedModel m, Dataset clean, NDManager root, Progress progress);

    /**
     * Applies this defense and writes the repaired model to {@code out} with its provenance in
     * headguard.json (command, method, source model, clean file and rows, the outcome's details,
     * seconds): the one place a repaired directory is written, for the command line and the API.
     */
    default RepairOutcome applyAndSave(ModelStore.LoadedModel m, Dataset clean, String cleanFile, Path out, String command, NDManager root,
                                       Progress progress) {
        long t0 = System.nanoTime();
        RepairOutcome outcome = apply(m, clean, root, progress);
        save(m, name(), cleanFile, clean.size(), outcome.details(), (System.nanoTime() - t0) / 1e9, out, command);
        return outcome;
    }

    /** Writes a repaired model with its provenance: the one format of every defense's output, classifier or decoder. */
    static void save(ModelStore.LoadedModel m, String method, String cleanFile, int cleanRows, Object details, double seconds, Path out, String command) {
        Map<String, Object> prov = new LinkedHashMap<>();
        prov.put("command", command);
        prov.put("method", method);
        prov.put("repaired_from", m.directory().toString());
        prov.put("clean_file", cleanFile);
        prov.put("clean_rows", cleanRows);
        prov.put("details", details);
        prov.put("seconds", seconds);
        ModelStore.save(m.model(), m.tokenizer().file(), out, prov);
    }

    /** Stage messages and training progress. */
    interface Progress extends Trainer.Listener {
        default void stage(String message) {}
    }

    /** The fine-tuning every baseline ends with: all parameters, AdamW, 4 epochs over the clean set. */
    static TrainConfig baselineTraining(long seed) {
        return new TrainConfig(4, 16, 2e-5, 0.01, 0.1, 1.0, seed, 0);
    }

    /** The defense called {@code name} with its default settings. */
    static Defense named(String name, long seed) {
        return switch (name) {
            case "headguard" -> new HeadGuardRepair(HeadGuardRepair.Settings.defaults().withSeed(seed), null);
            case "finetune" -> new FullFineTuning(baselineTraining(seed));
            case "fineprune" -> new FinePruning(FinePruning.Settings.defaults(seed));
            case "pure" -> new Pure(Pure.Settings.defaults(seed));
            default -> throw new dev.headguard.HeadGuardException("unknown defense '" + name + "' (known: " + String.join(", ", NAMES) + ")");
        };
    }
}
