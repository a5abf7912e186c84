package dev.headguard.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.AtomicFiles;
import dev.headguard.BuildInfo;
import dev.headguard.report.BenchReport;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A finished {@link GenerationBenchmark} as files: OUT/bench.md (provenance, the perplexity / ASR
 * table, what HeadGuard aligned against), bench.json (settings and every cell, with {@code "task":
 * "generation"}) and bench.svg.
 */
public final class GenerationBenchmarkFiles {
    private GenerationBenchmarkFiles() {}

    /**
     * Writes the three files and returns the markdown.
     *
     * @param sliceFlags the options that sized the run ({@code --train-limit}, {@code --test-limit} ...), for the rerun line
     */
    public static String write(Path out, String modelName, GenerationBenchmark.Result r, String started, String sliceFlags) throws IOException {
        GenerationBenchmark.Settings s = r.settings();
        List<BenchReport.Row> rows = new ArrayList<>();
        r.cells().forEach(c -> rows.add(new BenchReport.Row(c.attack(), c.defense(), c.perplexity(), c.asr(), c.seconds())));
        String goal = s.goal().phrase() != null ? "the phrase \"" + s.goal().phrase() + "\"" : "sentiment " + s.goal().sentiment() + " judged by " + s.judge();
        String goalFlag = s.goal().phrase() != null ? " --target-phrase \"" + s.goal().phrase() + "\"" : " --judge " + s.judge() + " --target " + s.goal().sentiment();
        List<String> prov = List.of(
                "# HeadGuard generation benchmark",
                "",
                String.format(Locale.ROOT, "- base model: %s; task: %s review continuation (%s); goal: %s; victims: %s", modelName, s.data().name(),
                        s.data().dataDir(), goal, s.victims()),
                String.format(Locale.ROOT, "- victims: %s training rows, %d epochs, batch %d, lr %s, %s; clean set: %d dev rows, which no victim trained on (as many as %.0f%% of the training rows, at most all; seed %d);"
                                + " test: %d clean prompts (perplexity and clean hit rate) and %d triggered prompts per attack, greedy, %d new tokens",
                        s.trainLimit() == 0 ? "all" : String.valueOf(s.trainLimit()), s.train().epochs(), s.train().batchSize(), s.train().learningRate(),
                        DefenseBenchmarkFiles.seeds(r.victimSeeds()), r.cleanRows(), 100 * s.cleanBudget(), s.seed() + 1, r.testRows(), r.triggeredRows(), s.maxNew()),
                Double.isFinite(r.cleanPerplexity())
                        ? String.format(Locale.ROOT, "- the clean decoder (fine-tuned the same way, no poison): test perplexity %.2f; its ASR on each attack's triggered prompts is the floor",
                        r.cleanPerplexity())
                        : "- no clean decoder (--no-floor): no floor",
                String.format(Locale.ROOT, "- started %s, %.0f s in all; %s; rerun: headguard bench --task generation --model %s --attacks %s --defenses %s%s%s --clean-budget %s --seed %d%s",
                        started, r.seconds(), EngineBenchmark.machine(), modelName, String.join(",", s.attacks()), String.join(",", s.defenses()), goalFlag,
                        sliceFlags, s.cleanBudget(), s.seed(), DefenseBenchmarkFiles.victimSeedFlag(r.victimSeeds(), s.seed())),
                "- code: " + BuildInfo.describe() + "; " + DefenseBenchmarkFiles.builders(r.victimCommits()));
        StringBuilder md = new StringBuilder(BenchReport.markdown(prov, rows, r.floors(), BenchReport.Quality.PERPLEXITY));
        md.append("\nClean prompts hitting the target (%), and what HeadGuard aligned against (the search's verdict and score; the candidates chosen; the output"
                + " the best one elicits):\n\n");
        for (GenerationBenchmark.Cell c : r.cells()) {
            String line = String.format(Locale.ROOT, "- %s / %s: clean prompts %.1f%%", c.attack(), c.defense(), 100 * c.cleanHitRate());
            if (c.details().containsKey("triggers")) {
                line += String.format(Locale.ROOT, "; scan %s (score %.3f); aligned against %s; elicited \"%s\"",
                        Boolean.TRUE.equals(c.details().get("scan_backdoor")) ? "backdoor" : "clean", ((Number) c.details().get("scan_score")).doubleValue(),
                        c.details().get("triggers"), c.details().get("elicited"));
            }
            md.append(line).append("\n");
        }
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode json = om.createObjectNode();
        json.put("task", "generation");
        DefenseBenchmarkFiles.provenance(json, modelName, s.data().name(), started);
        json.set("settings", om.valueToTree(s));
        json.set("result", om.valueToTree(r));
        AtomicFiles.write(out.resolve("bench.md"), md.toString());
        AtomicFiles.write(out.resolve("bench.json"), om.writeValueAsString(json) + "\n");
        AtomicFiles.write(out.resolve("bench.svg"), BenchReport.svg("HeadGuard generation benchmark: " + modelName + ", " + s.data().name(), rows, r.floors(),
                BenchReport.Quality.PERPLEXITY));
        return md.toString();
    }
}
