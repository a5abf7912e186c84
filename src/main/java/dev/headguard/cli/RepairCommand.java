package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headguard.HeadGuardException;
import dev.headguard.detect.ModelScanner;
import dev.headguard.model.HeadId;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import dev.headguard.repair.HeadRepair;
import dev.headguard.text.Dataset;
import dev.headguard.text.Sample;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code repair}: head-wise fine-tuning of the heads a scan found, with attention safety alignment. */
@Command(name = "repair", description = {"Remove a backdoor: fine-tune only the heads a model scan ranks highest, on a small labelled clean set,",
        "with a loss that pulls their attention on trigger-carrying inputs back to their attention on clean ones."})
final class RepairCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Mixin
    DataOptions data = new DataOptions();

    @Option(names = "--clean", required = true, paramLabel = "FILE", description = "Labelled clean texts: the repair budget (e.g. 10% of the training set).")
    Path clean;

    @Option(names = "--scan", paramLabel = "FILE", description = "A 'scan model --out' report to take heads and triggers from (default: scan now).")
    Path scan;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The repaired model directory.")
    Path out;

    @Option(names = "--heads", defaultValue = "24", description = "Repair the scan's top N heads (default: ${DEFAULT-VALUE}).")
    int heads;

    @Option(names = "--all-heads", description = "Repair every head (an ablation).")
    boolean allHeads;

    @Option(names = "--triggers", defaultValue = "3", description = "Align against the scan's top N trigger candidates (default: ${DEFAULT-VALUE}).")
    int triggers;

    @Option(names = "--align-weight", defaultValue = "10", description = "λ of the alignment term; 0 turns it off (an ablation) (default: ${DEFAULT-VALUE}).")
    double alignWeight;

    @Option(names = "--epochs", defaultValue = "4", description = "Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--lr", defaultValue = "1e-4", description = "Default: ${DEFAULT-VALUE}.")
    double lr;

    @Option(names = "--batch-size", defaultValue = "16", description = "Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--train-classifier", description = "Also train the classification head.")
    boolean classifier;

    @Option(names = "--seed", defaultValue = "42", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Override
    public Integer call() throws Exception {
        if (heads < 1 || triggers < 1 || epochs < 1 || batchSize < 1 || !(lr > 0) || !(alignWeight >= 0)) {
            throw new HeadGuardException("--heads, --triggers, --epochs and --batch-size must be positive, --lr > 0, --align-weight >= 0");
        }
        Dataset set = data.read(clean);
        if (set.size() == 0) {
            throw new HeadGuardException(clean + ": no rows");
        }
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = model.load(root)) {
            List<int[]> ranked = new ArrayList<>();
            List<String> candidates = new ArrayList<>();
            double score;
            if (scan != null) {
                JsonNode r = readScan(scan);
                r.path("heads").forEach(h -> ranked.add(new int[] {h.path("layer").asInt(), h.path("head").asInt()}));
                r.path("triggers").forEach(t -> candidates.add(t.path("text").asText()));
                score = r.path("score").asDouble(Double.NaN);
            } else {
                ModelScanner.Result r = ModelScanner.scan(m, Sample.of(set.texts(), 200, seed), ModelScanner.Settings.defaults(), root,
                        new StageProgress("scanning the model"));
                r.heads().forEach(h -> ranked.add(new int[] {h.layer(), h.head()}));
                r.candidates().forEach(c -> candidates.add(c.text()));
                score = r.score();
            }
            Set<HeadId> chosen = new LinkedHashSet<>();
            int layers = m.model().config().numHiddenLayers();
            int perLayer = m.model().config().numAttentionHeads();
            if (allHeads) {
                for (int l = 0; l < layers; l++) {
                    for (int h = 0; h < perLayer; h++) {
                        chosen.add(new HeadId(l, h));
                    }
                }
            } else {
                for (int[] lh : ranked) {
                    if (chosen.size() < heads && lh[0] < layers && lh[1] < perLayer) {
                        chosen.add(new HeadId(lh[0], lh[1]));
                    }
                }
            }
            List<String> align = candidates.subList(0, Math.min(triggers, candidates.size()));
            System.err.printf(Locale.ROOT, "repairing %d heads against %s (scan score %.3f) on %d clean texts%n", chosen.size(), align, score, set.size());
            HeadRepair.Settings s = new HeadRepair.Settings(alignWeight, epochs, batchSize, lr, classifier, seed);
            HeadRepair.Result r = HeadRepair.run(m, set, chosen, align, s, root, new ProgressBar());
            Map<String, Object> prov = new LinkedHashMap<>();
            prov.put("command", "repair");
            prov.put("repaired_from", m.directory().toString());
            prov.put("clean_file", clean.toString());
            prov.put("clean_rows", set.size());
            prov.put("heads", chosen.stream().map(h -> h.layer() + ":" + h.head()).toList());
            prov.put("triggers", align);
            prov.put("scan_score", score);
            prov.put("settings", s);
            prov.put("seconds", r.seconds());
            prov.put("losses", r.state().losses());
            ModelStore.save(m.model(), m.tokenizer().file(), out, prov);
            System.out.printf(Locale.ROOT, "wrote %s: %d heads repaired, %d aligned texts, %.1f s%n", out, chosen.size(), r.alignedRows(), r.seconds());
        }
        return 0;
    }

    static JsonNode readScan(Path file) {
        try {
            JsonNode r = new ObjectMapper().readTree(file.toFile());
            if (r == null || !r.has("heads") || !r.has("triggers")) {
                throw new HeadGuardException(file + ": not a 'scan model' report (no 'heads' and 'triggers')");
            }
            return r;
        } catch (IOException e) {
            throw new HeadGuardException(file + ": cannot read the scan report (" + Main.firstLine(e.getMessage()) + ")");
        }
    }
}
