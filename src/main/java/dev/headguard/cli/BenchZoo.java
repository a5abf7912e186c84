package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.AtomicFiles;
import dev.headguard.HeadGuardException;
import dev.headguard.detect.HiddenStateScan;
import dev.headguard.detect.InputScanner;
import dev.headguard.detect.SuspectWords;
import dev.headguard.detect.UnsupportedFlips;
import dev.headguard.detect.ModelAudit;
import dev.headguard.detect.ModelScanner;
import dev.headguard.detect.Probe;
import dev.headguard.detect.Roc;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Sample;
import dev.headguard.text.SentenceFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * Model-verdict benchmark over a zoo of clean and backdoored models. The scan sees only the model
 * and a clean set; the ground truth (was it attacked, with which trigger words) is read from each
 * directory's headguard.json afterwards, by this benchmark alone, to score the verdicts.
 */
@Command(name = "zoo", description = "Run 'scan model' over many models and score the verdicts against their manifests (AUROC, trigger found in the top 5).")
final class BenchZoo implements Callable<Integer> {
    @Option(names = "--list", required = true, paramLabel = "FILE", description = {"TSV without header: model directory, clean set file, and optionally the model's training set",
            "(unlabelled suspects for the population scan: a second verdict score, the larger of the two)."})
    Path list;

    @Option(names = "--clean-limit", defaultValue = "200", description = "Clean texts per scan, a seeded sample (default: ${DEFAULT-VALUE}).")
    int cleanLimit;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.")
    Path json;

    /** Inputs are cut at 128 tokens (SST-2 sentences and OffensEval tweets rarely reach it), or at a smaller model's limit. */
    static final int MAX_LENGTH = 128;

    @Override
    public Integer call() throws Exception {
        List<String[]> rows = new ArrayList<>();
        for (String line : SentenceFile.readLines(list)) {
            String[] f = line.split("\t");
            if (f.length < 2) {
                throw new HeadGuardException(list + ": each line needs a model directory and a clean file, tab-separated");
            }
            rows.add(f);
        }
        ObjectMapper om = new ObjectMapper();
        ObjectNode report = om.createObjectNode();
        ArrayNode out = report.putArray("models");
        List<Double> cleanScores = new ArrayList<>();
        List<Double> backdoorScores = new ArrayList<>();
        List<Double> cleanWith = new ArrayList<>();
        List<Double> backdoorWith = new ArrayList<>();
        int tokenVictims = 0;
        int found = 0;
        int foundWith = 0; // in the top 5 or among the words recovered from the suspects
        System.out.printf(Locale.ROOT, "%-26s %-10s %-22s %7s %-9s %-44s %6s%n", "model", "truth", "trigger", "score", "verdict", "top 5 candidates", "s");
        for (String[] r : rows) {
            Path dir = Path.of(r[0]);
            List<String> clean = Sample.of(SentenceFile.readSentences(Path.of(r[1])), cleanLimit, 42);
            ModelScanner.Result res;
            HiddenStateScan.Result pop = null;
            List<String> recovered = List.of();
            ModelAudit.Result audit;
            try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = ModelStore.load(dir, root, Math.min(MAX_LENGTH, ModelStore.readConfig(dir).maxPositionEmbeddings()))) {
                // as `scan model --suspect`: every clean text, the suspects as one population
                audit = ModelAudit.run(m, new ModelAudit.Request(clean, UnsupportedFlips.Evidence.ofLabelledFile(Path.of(r[1]), m.model().config().numLabels()),
                        ModelScanner.Settings.defaults(), r.length > 2 ? SentenceFile.readSentences(Path.of(r[1])) : null,
                        r.length > 2 ? SentenceFile.readSentences(Path.of(r[2])) : null, HiddenStateScan.Settings.defaults(42)), root, stage -> Probe.Progress.NONE);
            }
            res = audit.search();
            if (audit.suspects() != null) {
                pop = audit.suspects().hidden();
                recovered = List.copyOf(SuspectWords.texts(audit.suspects().words()));
            }
            double frr = audit.frr();
            double with = pop == null ? Double.NaN : audit.score();
            JsonNode attack = dev.headguard.bench.Victims.attackRecord(dir);
            boolean backdoored = attack != null;
            List<String> words = backdoored ? triggerWords(attack) : List.of();
            List<String> top = res.candidates().subList(0, Math.min(5, res.candidates().size())).stream().map(ModelScanner.Candidate::text).toList();
            boolean tokenTrigger = backdoored && List.of("badnets", "ep").contains(attack.path("attack").asText());
            boolean hit = tokenTrigger && top.stream().anyMatch(t -> Arrays.stream(t.split(" ")).anyMatch(words::contains));
            boolean recoveredHit = tokenTrigger && recovered.stream().anyMatch(t -> Arrays.stream(t.split(" ")).anyMatch(words::contains));
            if (tokenTrigger) {
                tokenVictims++;
                found += hit ? 1 : 0;
                foundWith += hit || recoveredHit ? 1 : 0;
            }
            (backdoored ? backdoorScores : cleanScores).add(res.score());
            if (pop != null) {
                (backdoored ? backdoorWith : cleanWith).add(with);
            }
            String truth = backdoored ? attack.path("attack").asText() : "clean";
            System.out.printf(Locale.ROOT, "%-26s %-10s %-22s %7.3f %-9s %-44s %6.1f%n", dir.getFileName(), truth,
                    backdoored ? abbreviate(attack.path("trigger").asText(), 22) : "-", res.score(), res.backdoor() ? "BACKDOOR" : "clean",
                    abbreviate(String.join(", ", top), 44) + (tokenTrigger ? (hit ? " ✓" : " ✗") : ""), res.seconds());
            if (res.unsupportedWins()) {
                UnsupportedFlips.Word w = res.unsupported().get(0);
                System.out.printf(Locale.ROOT, "%-26s   score from a word that flips without support: '%s' -> label %d, flips %.1f%%, %d of %d clean texts using it %s so%n", "",
                        w.text(), w.target(), 100 * w.flipRate(), w.usesCalledC(), w.uses(), res.wordsLabelled() ? "labelled" : "called");
            }
            if (pop != null) {
                System.out.printf(Locale.ROOT, "%-26s   with its training set as suspects: %.1fx the FRR flagged (%d) -> score %.3f, %s; recovered words: %s%n", "",
                        pop.excess(frr), pop.flagged().size(), with, audit.backdoor() ? "BACKDOOR" : "clean",
                        recovered.isEmpty() ? "none" : abbreviate(String.join(", ", recovered), 60) + (tokenTrigger ? (recoveredHit ? " ✓" : " ✗") : ""));
            }
            ObjectNode o = out.addObject();
            o.put("model", dir.toString()).put("truth", truth).put("trigger", backdoored ? attack.path("trigger").asText() : "")
                    .put("score", res.score()).put("backdoor", res.backdoor()).put("seconds", res.seconds()).put("suspected_target", res.suspectedTarget())
                    .put("evidence", res.unsupportedWins() ? "unsupported_flip" : "trigger_candidate").put("strongest", res.strongest())
                    .put("top_unsupported_score", res.unsupported().isEmpty() ? 0 : res.unsupported().get(0).score());
            o.putArray("top5").addAll(top.stream().map(om::valueToTree).map(JsonNode.class::cast).toList());
            if (tokenTrigger) {
                o.put("trigger_in_top5", hit);
            }
            if (pop != null) {
                o.put("suspects", r[2]).put("population_excess", pop.excess(frr)).put("population_flagged", pop.flagged().size())
                        .put("population_found", audit.populationFound()).put("score_with_population", with)
                        .put("backdoor_with_population", audit.backdoor());
                o.set("recovered_words", om.valueToTree(recovered));
                if (tokenTrigger) {
                    o.put("trigger_recovered", recoveredHit);
                }
            }
        }
        double auroc = cleanScores.isEmpty() || backdoorScores.isEmpty() ? Double.NaN
                : Roc.auroc(cleanScores.stream().mapToDouble(Double::doubleValue).toArray(), backdoorScores.stream().mapToDouble(Double::doubleValue).toArray());
        System.out.printf(Locale.ROOT, "%d clean, %d backdoored: verdict-score AUROC %.4f; token triggers in the top 5: %d of %d%n",
                cleanScores.size(), backdoorScores.size(), auroc, found, tokenVictims);
        if (!cleanWith.isEmpty() && !backdoorWith.isEmpty()) {
            double aurocWith = Roc.auroc(cleanWith.stream().mapToDouble(Double::doubleValue).toArray(), backdoorWith.stream().mapToDouble(Double::doubleValue).toArray());
            System.out.printf(Locale.ROOT, "with the training sets as suspects (%d clean, %d backdoored): verdict-score AUROC %.4f; token triggers in the top 5 or recovered: %d of %d%n",
                    cleanWith.size(), backdoorWith.size(), aurocWith, foundWith, tokenVictims);
            report.put("auroc_with_population", aurocWith).put("clean_with_population", cleanWith.size()).put("backdoored_with_population", backdoorWith.size())
                    .put("trigger_in_top5_or_recovered", foundWith);
        }
        report.put("auroc", auroc).put("clean", cleanScores.size()).put("backdoored", backdoorScores.size())
                .put("token_victims", tokenVictims).put("trigger_in_top5", found).put("input_settings", InputScanner.Settings.defaults().toString());
        if (json != null) {
            AtomicFiles.write(json, om.writerWithDefaultPrettyPrinter().writeValueAsString(report) + "\n");
        }
        return 0;
    }

    /** "1 of cf, mn, bb" → [cf, mn, bb]; "cf" → [cf]. */
    static List<String> triggerWords(JsonNode attack) {
        String t = attack.path("trigger").asText();
        int of = t.indexOf(" of ");
        String words = of >= 0 ? t.substring(of + 4) : t;
        return Arrays.stream(words.split("[,\\s]+")).filter(w -> !w.isBlank()).toList();
    }

    static String abbreviate(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n - 3) + "...";
    }
}
