package dev.headguard.cli;

import dev.headguard.testing.HfOracle;
import dev.headguard.testing.TestData;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The main jobs run to completion on a randomly initialised model of each code path (RoBERTa's
 * positions, GPT-2's fused weights, Llama's rotary grouped-query attention): train, scan model,
 * scan inputs, repair, eval. A functional check: efficacy is measured on pretrained models only.
 */
class FamilyEndToEndTest {

    @ParameterizedTest
    @ValueSource(strings = {"roberta", "deberta-v2", "gpt2", "llama"})
    void mainJobsRunOnEveryFamily(String family, @TempDir Path tmp) throws Exception {
        Path base = HfOracle.fixtures().resolve(family);
        List<String> rows = Files.readAllLines(TestData.dataDir().resolve("sst-2/clean/train.tsv"));
        Path train = Files.write(tmp.resolve("train.tsv"), rows.subList(0, 201));
        Path clean = Files.write(tmp.resolve("clean.tsv"), java.util.stream.Stream.concat(rows.subList(0, 1).stream(), rows.subList(300, 380).stream()).toList());
        Path model = tmp.resolve("model");
        ok(Main.capture("train", "--model", base.toString(), "--train", train.toString(), "--epochs", "1", "--lr", "1e-3", "--out", model.toString()));
        ok(Main.capture("scan", "model", "--model", model.toString(), "--clean", clean.toString(), "--json", "--out", tmp.resolve("scan.json").toString()));
        assertTrue(Files.readString(tmp.resolve("scan.json")).contains("\"backdoor\""));
        ok(Main.capture("scan", "inputs", "--model", model.toString(), "--clean", clean.toString(), "--inputs", clean.toString(), "--no-model-scan",
                "--out", tmp.resolve("inputs.json").toString()));
        Main.Captured repair = Main.capture("repair", "--model", model.toString(), "--clean", clean.toString(), "--scan", tmp.resolve("scan.json").toString(),
                "--epochs", "1", "--out", tmp.resolve("repaired").toString());
        ok(repair);
        boolean calledClean = !new com.fasterxml.jackson.databind.ObjectMapper().readTree(tmp.resolve("scan.json").toFile()).get("backdoor").asBoolean();
        assertEquals(calledClean, repair.err().contains("warning: the scan calls the model clean"), "warned exactly when the scan said clean: " + repair.err());
        Main.Captured eval = Main.capture("eval", "--model", tmp.resolve("repaired").toString(), "--clean", clean.toString(), "--json");
        ok(eval);
        assertTrue(eval.out().contains("\"cacc\""), eval.out());
        assertTrue(Files.readString(tmp.resolve("repaired/config.json")).contains("\"model_type\" : \"" + family + "\""));
    }

    private static void ok(Main.Captured r) {
        assertEquals(0, r.code(), r.err());
    }
}
