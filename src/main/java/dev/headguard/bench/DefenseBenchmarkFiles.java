package dev.headguard.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.AtomicFiles;
import dev.headguard.BuildInfo;
import dev.headguard.detect.hidden.SuspectWords;
import dev.headguard.repair.HeadGuardOutcome;
import dev.headguard.repair.ShiftResistance;
import dev.headguard.report.BenchReport;
import dev.headguard.text.Dataset;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * A finished {@link DefenseBenchmark} as files: OUT/bench.md (provenance, the table, what HeadGuard
 * aligned against), bench.json (settings and every cell, the contract scripts read) and bench.svg.
 */
public final class DefenseBenchmarkFiles {
    private DefenseBenchmarkFiles() {}

    /**
     * Writes the three files and each attack's clean draw, and returns the markdown.
     *
     * @param sliceFlags the options that sized the run ({@code --quick}, {@code --train-limit} ...), for the rerun line
     */
    public static String write(Path out, String modelName, DefenseBenchmark.Result r, String started, String sliceFlags) throws IOException {
        DefenseBenchmark.Settings s = r.settings();
        String dataset = s.data().name();
        List<BenchReport.Row> rows = new ArrayList<>();
        r.cells().forEach(c -> rows.add(new BenchReport.Row(c.attack(), c.defense(), c.cacc(), c.asr(), c.seconds())));
        List<String> prov = List.of(
                "# HeadGuard defense benchmark",
                "",
                String.format(Locale.ROOT, "- model: %s; dataset: %s (%s); victims: %s", modelName, dataset, s.data().dataDir(), s.victims()),
                String.format(Locale.ROOT, "- victims: %s training rows, %d epochs, batch " + s.train().batchSize() + ", %s; clean budget: %d rows (%.0f%% of the training rows, seed %d); test: %d clean rows and the matching triggered rows",
                        s.trainLimit() == 0 ? "all" : String.valueOf(s.trainLimit()), s.train().epochs(), seeds(r.victimSeeds()), r.cleanRows(), 100 * s.cleanBudget(), s.seed() + 1, r.testRows()),
                String.format(Locale.ROOT, "- started %s, %.0f s in all; %s; rerun: headguard bench --model %s --dataset %s --attacks %s --defenses %s%s --clean-budget %s --seed %d%s",
                        started, r.seconds(), EngineBenchmark.machine(), modelName, dataset, String.join(",", s.attacks()), String.join(",", s.defenses()),
                        sliceFlags, s.cleanBudget(), s.seed(), victimSeedFlag(r.victimSeeds(), s.seed())),
                "- code: " + BuildInfo.describe() + "; " + builders(r.victimCommits()));
        StringBuilder md = new StringBuilder(BenchReport.markdown(prov, rows, r.floors()));
        md.append("\nWhat HeadGuard aligned against (scan verdict; trigger candidates; with suspect inputs, the words recovered from them),"
                + " or what it unlearned (an implicit trigger: suspects flagged by the hidden-state scan):\n\n");
        for (DefenseBenchmark.Cell c : r.cells()) {
            if (c.outcome() instanceof HeadGuardOutcome.Unlearned u) {
                HeadGuardOutcome.Population p = u.population();
                md.append(String.format(Locale.ROOT, "- %s / %s: unlearned %s flagged suspects (layer %s, %.1f%% of those predicted %s); recovered %s%n",
                        c.attack(), c.defense(), p.unlearnedRows(), p.hiddenLayer(), 100 * p.flaggedShare(), p.target(), recoveredWords(u.recovered())));
            } else if (c.outcome() instanceof HeadGuardOutcome.Aligned a) {
                String scan = a.scan() != null
                        ? String.format(Locale.ROOT, "scan %s (score %.3f)", a.scan().backdoor() ? "backdoor" : "clean", a.scan().score())
                        : "no model scan (the recovered words explain the flagged suspects)";
                String stripped = a.unlearnedRows() > 0 ? "; unlearned " + a.unlearnedRows() + " flagged suspects with the recovered words taken out" : "";
                ShiftResistance.Outcome resisted = a.resistance();
                if (resisted != null) {
                    String shift = String.format(Locale.ROOT, "the hidden shift at layer %s toward class %s", resisted.layer(), resisted.target());
                    String what = resisted.resisted() ? "resisting " + shift
                            : "fine-tuning every parameter on the evidence's carriers toward class " + resisted.target() + " (no hidden shift resisted)";
                    stripped += !resisted.kept() ? "; " + what + " was undone (it cost the clean set its balance)"
                            : resisted.resisted() ? "; then every parameter resisted " + shift : "; then " + what;
                    ShiftResistance.Carriers carried = resisted.carriers();
                    String evidence = carried.opening() != null ? "opened by '" + carried.opening() + "'"
                            : carried.context() != null ? "carrying " + carried.context().phrases().stream().map(x -> "'" + x + "'")
                            .collect(java.util.stream.Collectors.joining(", ")) : null;
                    if (evidence != null) {
                        stripped += String.format(Locale.ROOT, " (%s, with %d clean texts of other classes %s, labels kept)",
                                resisted.kept() ? "trained" : "it had trained", carried.rows(), evidence);
                    }
                }
                md.append(String.format(Locale.ROOT, "- %s / %s: %s; aligned against %s%s%s%n", c.attack(), c.defense(), scan,
                        a.alignment().triggers(), c.defense().equals(DefenseBenchmark.WITH_SUSPECT) ? "; recovered " + recoveredWords(a.recovered()) : "",
                        stripped));
            }
        }
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode json = provenance(om.createObjectNode(), modelName, dataset, started);
        json.set("settings", om.valueToTree(s));
        json.set("result", om.valueToTree(r));
        AtomicFiles.write(out.resolve("bench.md"), md.toString());
        AtomicFiles.write(out.resolve("bench.json"), om.writeValueAsString(json) + "\n");
        AtomicFiles.write(out.resolve("bench.svg"), BenchReport.svg("HeadGuard benchmark: " + modelName + ", " + dataset, rows, r.floors()));
        writeCleanDraws(out, r.cleanDraws());
        return md.toString();
    }

    /** bench.json's provenance fields (both benchmarks write them first): model, dataset, start, machine and its matrix kernels, HeadGuard version and commit. */
    static ObjectNode provenance(ObjectNode json, String modelName, String dataset, String started) {
        json.put("model", modelName);
        json.put("dataset", dataset);
        json.put("started", started);
        json.put("machine", EngineBenchmark.cpuName());
        json.put("matrix_kernels", dev.headguard.model.TorchRuntime.matrixKernels());
        json.put("headguard_version", BuildInfo.version());
        json.put("headguard_commit", BuildInfo.commit());
        return json;
    }

    /**
     * Which code built the victims: "victims built by this commit", one other commit, or each attack's
     * ("unrecorded" for a victim written before models recorded it). A reused victim built by other code
     * may differ from the one this code builds from the same seed.
     */
    static String builders(Map<String, String> victimCommits) {
        Set<String> distinct = new TreeSet<>(victimCommits.values());
        if (distinct.size() == 1) {
            String c = distinct.iterator().next();
            return c.equals(BuildInfo.commit()) ? "victims built by this commit"
                    : c.equals("unrecorded") ? "the victims' code is unrecorded" : "victims built by commit " + c;
        }
        return "victims built by " + victimCommits.entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining(", "));
    }

    /** "seed 42", or each attack's seed where the victims were built with different ones. */
    static String seeds(Map<String, Long> victimSeeds) {
        Set<Long> distinct = new TreeSet<>(victimSeeds.values());
        if (distinct.size() == 1) {
            return "seed " + distinct.iterator().next();
        }
        return "seeds " + victimSeeds.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "));
    }

    /** The rerun line's --victim-seed: none when the victims' seed is --seed; when they differ among themselves, a note naming each (no one flag reruns them). */
    static String victimSeedFlag(Map<String, Long> victimSeeds, long seed) {
        Set<Long> distinct = new TreeSet<>(victimSeeds.values());
        if (distinct.size() != 1 || distinct.contains(seed)) {
            return distinct.size() > 1 ? " (victims: " + seeds(victimSeeds) + ")" : "";
        }
        return " --victim-seed " + distinct.iterator().next();
    }

    private static String recoveredWords(List<SuspectWords.Finding> findings) {
        if (findings.isEmpty()) {
            return "nothing";
        }
        return findings.stream().map(w -> String.format(Locale.ROOT, "%s (%d flagged / %d unflagged rows)", w.text(), w.flagged(), w.unflagged())).toList().toString();
    }

    /**
     * Writes each attack's clean draw as OUT/clean-ATTACK.tsv ('sentence', 'label'): the rows every defense of that
     * attack was given, so that one cell reruns as {@code repair --clean OUT/clean-ATTACK.tsv --seed S}.
     */
    static void writeCleanDraws(Path out, Map<String, Dataset> draws) {
        draws.forEach((attack, rows) -> AtomicFiles.write(out.resolve(cleanDrawFile(attack)), String.join("\n", PoisonedDataFiles.tsvLines(rows)) + "\n"));
    }

    /** The file name of an attack's clean draw. */
    public static String cleanDrawFile(String attack) {
        return "clean-" + attack + ".tsv";
    }
}
