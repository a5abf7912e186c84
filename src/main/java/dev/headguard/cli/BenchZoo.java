package dev.headguard.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.AtomicFiles;
import dev.headguard.bench.ZooBenchmark;
import dev.headguard.detect.InputScanner;
import dev.headguard.detect.ModelScanner;
import dev.headguard.detect.UnsupportedFlips;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** The shell of {@link ZooBenchmark}: its table as it goes, and its JSON. */
@Command(name = "zoo", description = "Run 'scan model' over many models and score the verdicts against their manifests (AUROC, trigger found in the top 5).")
final class BenchZoo implements Callable<Integer> {
    @Option(names = "--list", required = true, paramLabel = "FILE", description = {"TSV without header: model directory, clean set file, and optionally the model's training set",
            "(unlabelled suspects for the population scan: a second verdict score, the larger of the two)."})
    Path list;

    @Option(names = "--clean-limit", defaultValue = "200", description = "Clean texts per scan, a seeded sample (default: ${DEFAULT-VALUE}).")
    int cleanLimit;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.")
    Path json;

    @Override
    public Integer call() throws Exception {
        OptionChecks.atLeast("--clean-limit", cleanLimit, 0);
        if (json != null) {
            AtomicFiles.checkFile(json, "--json");
        }
        var entries = ZooBenchmark.readList(list);
        ObjectMapper om = new ObjectMapper();
        ObjectNode report = om.createObjectNode();
        ArrayNode out = report.putArray("models");
        System.out.printf(Locale.ROOT, "%-26s %-10s %-22s %7s %-9s %-44s %6s%n", "model", "truth", "trigger", "score", "verdict", "top 5 candidates", "s");
        ZooBenchmark.Result r = ZooBenchmark.run(entries, cleanLimit, row -> {
            print(row);
            out.add(json(om, row));
        });
        System.out.printf(Locale.ROOT, "%d clean, %d backdoored: verdict-score AUROC %.4f; token triggers in the top 5: %d of %d%n",
                r.search().clean(), r.search().backdoored(), r.search().auroc(), r.triggerInTop5(), r.tokenVictims());
        if (r.withPopulation() != null) {
            System.out.printf(Locale.ROOT, "with the training sets as suspects (%d clean, %d backdoored): verdict-score AUROC %.4f; token triggers in the top 5 or recovered: %d of %d%n",
                    r.withPopulation().clean(), r.withPopulation().backdoored(), r.withPopulation().auroc(), r.triggerInTop5OrRecovered(), r.tokenVictims());
            report.put("auroc_with_population", r.withPopulation().auroc()).put("clean_with_population", r.withPopulation().clean())
                    .put("backdoored_with_population", r.withPopulation().backdoored()).put("trigger_in_top5_or_recovered", r.triggerInTop5OrRecovered());
        }
        report.put("auroc", r.search().auroc()).put("clean", r.search().clean()).put("backdoored", r.search().backdoored())
                .put("token_victims", r.tokenVictims()).put("trigger_in_top5", r.triggerInTop5()).put("input_settings", InputScanner.Settings.defaults().toString());
        if (json != null) {
            AtomicFiles.write(json, om.writerWithDefaultPrettyPrinter().writeValueAsString(report) + "\n");
        }
        return 0;
    }

    private static void print(ZooBenchmark.ModelRow row) {
        ModelScanner.Result res = row.scan();
        ZooBenchmark.Truth t = row.truth();
        System.out.printf(Locale.ROOT, "%-26s %-10s %-22s %7.3f %-9s %-44s %6.1f%n", row.model().getFileName(), t.name(),
                t.backdoored() ? abbreviate(t.trigger(), 22) : "-", res.score(), res.backdoor() ? "BACKDOOR" : "clean",
                abbreviate(String.join(", ", row.top5()), 44) + (t.tokenTrigger() ? (t.triggerInTop5() ? " ✓" : " ✗") : ""), res.seconds());
        if (res.unsupportedWins()) {
            UnsupportedFlips.Word w = res.unsupported().get(0);
            System.out.printf(Locale.ROOT, "%-26s   score from a word that flips without support: '%s' -> label %d, flips %.1f%%, %d of %d clean texts using it %s so%n", "",
                    w.text(), w.target(), 100 * w.flipRate(), w.usesCalledC(), w.uses(), res.wordsLabelled() ? "labelled" : "called");
        }
        ZooBenchmark.Population p = row.population();
        if (p != null) {
            System.out.printf(Locale.ROOT, "%-26s   with its training set as suspects: %.1fx the FRR flagged (%d) -> score %.3f, %s; recovered words: %s%n", "",
                    p.excess(), p.flagged(), p.score(), p.backdoor() ? "BACKDOOR" : "clean",
                    p.recovered().isEmpty() ? "none" : abbreviate(String.join(", ", p.recovered()), 60) + (t.tokenTrigger() ? (p.triggerRecovered() ? " ✓" : " ✗") : ""));
        }
    }

    private static ObjectNode json(ObjectMapper om, ZooBenchmark.ModelRow row) {
        ModelScanner.Result res = row.scan();
        ZooBenchmark.Truth t = row.truth();
        ObjectNode o = om.createObjectNode();
        o.put("model", row.model().toString()).put("truth", t.name()).put("trigger", t.trigger())
                .put("score", res.score()).put("backdoor", res.backdoor()).put("seconds", res.seconds()).put("suspected_target", res.suspectedTarget())
                .put("evidence", res.unsupportedWins() ? "unsupported_flip" : "trigger_candidate").put("strongest", res.strongest())
                .put("top_unsupported_score", res.unsupported().isEmpty() ? 0 : res.unsupported().get(0).score());
        o.putArray("top5").addAll(row.top5().stream().map(om::valueToTree).map(JsonNode.class::cast).toList());
        if (t.tokenTrigger()) {
            o.put("trigger_in_top5", t.triggerInTop5());
        }
        ZooBenchmark.Population p = row.population();
        if (p != null) {
            o.put("suspects", p.suspects().toString()).put("population_excess", p.excess()).put("population_flagged", p.flagged())
                    .put("population_found", p.found()).put("score_with_population", p.score())
                    .put("backdoor_with_population", p.backdoor());
            o.set("recovered_words", om.valueToTree(p.recovered()));
            if (t.tokenTrigger()) {
                o.put("trigger_recovered", p.triggerRecovered());
            }
        }
        return o;
    }

    static String abbreviate(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n - 3) + "...";
    }
}
