package dev.headguard.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headguard.api.HeadGuard;
import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.api.InputFilter;
import dev.headguard.detect.CalibratedFilter;
import dev.headguard.model.TorchRuntime;
import dev.headguard.detect.search.ModelScanner;
import dev.headguard.repair.HeadGuardOutcome;
import dev.headguard.repair.RepairOutcome;
import dev.headguard.testing.Fixtures;
import dev.headguard.text.SentenceFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Java API of the README (docs/java-api.md) runs, and its input filter scores as {@code scan inputs} does. */
class HeadGuardApiTest {
    @TempDir
    Path tmp;

    @Test
    void theFiveLineApiScansFiltersAndRepairsAsTheCommandsDo() throws Exception {
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        Path clean = CliTest.tsv(tmp, "clean.tsv", 60, 1);
        Path inputs = CliTest.tsv(tmp, "inputs.tsv", 12, 2);
        String home = System.getProperty("headguard.home");
        System.setProperty("headguard.home", tmp.resolve("home").toString());
        try {
            // The README's example, as a service would write it.
            try (HeadGuard hg = HeadGuard.load(model.toString())) {
                ModelScanner.Result verdict = hg.scanModel(clean);
                InputFilter filter = hg.inputFilter(clean, 0.05);
                boolean triggered = filter.flagged("a fine film");
                assertEquals(triggered, filter.score("a fine film") > 0, "flagged means a score above 0");
                RepairOutcome repaired = hg.repair(clean, tmp.resolve("repaired"));

                JsonNode cli = new ObjectMapper().readTree(CliTest.run("scan", "model", "--model", model.toString(), "--clean", clean.toString(), "--json").out());
                assertEquals(cli.get("backdoor").asBoolean(), verdict.backdoor(), "the verdict of scan model");
                assertEquals(cli.get("score").asDouble(), verdict.score(), 1e-9);
                assertThrows(IllegalStateException.class, () -> filter.score("a fine film"), "calibrated on the model before its repair");
                assertEquals(1, hg.inputFilter(clean, 0.05).scores(List.of("a fine film")).length, "a new filter scores the repaired model");
                assertTrue(repaired instanceof HeadGuardOutcome.Aligned a && !a.alignment().heads().isEmpty()
                        && Files.isRegularFile(tmp.resolve("repaired/model.safetensors")), repaired.toString());
                // The typed outcome and the model's headguard.json say the same: details() is the one writer of that block.
                JsonNode written = new ObjectMapper().readTree(tmp.resolve("repaired/headguard.json").toFile()).get("details");
                ObjectMapper om = new ObjectMapper();
                assertEquals(om.readTree(om.writeValueAsString(repaired.details())), written); // as written, not as Java values
                assertEquals(List.of("mode", "model_scan", "scan_score", "scan_backdoor", "heads", "triggers", "recovered_from_suspect", "aligned_rows",
                        "unlearned_rows", "settings", "losses_last", "resistance"), fieldNames(written), "the contract's fields, in order");
            }
            // The filter's scores are scan inputs' own: scan_filter_score with a model scan, else the attention margins.
            CliTest.Run r = CliTest.run("scan", "inputs", "--model", model.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(), "--json");
            assertEquals(0, r.code(), r.err());
            JsonNode json = new ObjectMapper().readTree(r.out());
            List<String> texts = SentenceFile.readSentences(inputs);
            double[] api;
            String kind;
            try (HeadGuard hg = HeadGuard.load(model.toString())) {
                InputFilter filter = hg.inputFilter(clean, 0.05);
                api = filter.scores(texts);
                kind = filter.kind();
            }
            JsonNode chosen = json.path("scan_filter");
            assertEquals(chosen.isMissingNode() ? "attention" : chosen.get("chosen").asText(), kind);
            for (int i = 0; i < texts.size(); i++) {
                if (chosen.isMissingNode()) {
                    assertEquals(json.get("inputs").get(i).get("flagged").asBoolean(), api[i] > 0, "input " + i);
                } else if (!chosen.get("margins").get(i).isNull()) {
                    assertEquals(chosen.get("margins").get(i).asDouble(), api[i], 1e-3, "input " + i);
                } else {
                    assertFalse(Double.isFinite(api[i]) && api[i] > 0, "not scored by the direction, not flagged: input " + i);
                }
            }
        } finally {
            if (home == null) {
                System.clearProperty("headguard.home");
            } else {
                System.setProperty("headguard.home", home);
            }
        }
    }

    @Test
    void aFilterShippedAsBytesScoresAsTheOneCalibrated() throws Exception {
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        Path other = Fixtures.tinyModelDir(tmp, "other", 6);
        Path clean = CliTest.tsv(tmp, "clean.tsv", 60, 1);
        List<String> texts = SentenceFile.readSentences(CliTest.tsv(tmp, "inputs.tsv", 12, 2));
        String home = System.getProperty("headguard.home");
        System.setProperty("headguard.home", tmp.resolve("home").toString());
        try (HeadGuard hg = HeadGuard.load(model.toString()); HeadGuard copy = HeadGuard.load(model.toString())) {
            InputFilter filter = hg.inputFilter(clean, InputFilter.Settings.defaults().withFrr(0.1));
            CalibratedFilter.Scored here = filter.scored(texts);
            byte[] bytes = filter.calibrated().toBytes();
            try (NDManager root = TorchRuntime.newManager()) {
                CalibratedFilter shipped = CalibratedFilter.fromBytes(bytes, copy.model(), root);
                CalibratedFilter.Scored there = shipped.score(texts, root, dev.headguard.detect.attention.Probe.Progress.NONE);
                assertEquals(filter.kind(), shipped.kind());
                assertArrayEquals(here.predictions(), there.predictions());
                assertArrayEquals(here.scores(), there.scores(), 0.0, "the same numbers, bit for bit, from the same model and texts");
                assertArrayEquals(bytes, shipped.toBytes(), "read and written again, the same bytes");
                HeadGuardException damaged = assertThrows(HeadGuardException.class,
                        () -> CalibratedFilter.fromBytes(java.util.Arrays.copyOf(bytes, bytes.length - 3), copy.model(), root));
                assertTrue(damaged.getMessage().contains("damaged"), damaged.getMessage());
                byte[] longer = java.util.Arrays.copyOf(bytes, bytes.length + 1);
                assertThrows(HeadGuardException.class, () -> CalibratedFilter.fromBytes(longer, copy.model(), root));
            }
            // A model of another shape: refused with both shapes named.
            Path wider = tmp.resolve("wide");
            dev.headguard.model.ModelConfig c = dev.headguard.model.ModelConfig.tiny(Fixtures.VOCAB, 2, 2, 16, 2);
            dev.headguard.model.io.ModelStore.write(c, Fixtures.tinyWeights(c, 3), Fixtures.tokenizer(tmp), wider, java.util.Map.of());
            try (HeadGuard w = HeadGuard.load(wider.toString()); NDManager root = TorchRuntime.newManager()) {
                HeadGuardException e = assertThrows(HeadGuardException.class, () -> CalibratedFilter.fromBytes(bytes, w.model(), root));
                assertTrue(e.getMessage().contains("hidden=8") && e.getMessage().contains("hidden=16"), e.getMessage());
            }
            try (HeadGuard o = HeadGuard.load(other.toString()); NDManager root = TorchRuntime.newManager()) {
                double[] otherScores = CalibratedFilter.fromBytes(bytes, o.model(), root).score(texts, root, dev.headguard.detect.attention.Probe.Progress.NONE).scores();
                assertFalse(java.util.Arrays.equals(here.scores(), otherScores), "the weights score, not the bytes alone");
            }
        } finally {
            if (home == null) {
                System.clearProperty("headguard.home");
            } else {
                System.setProperty("headguard.home", home);
            }
        }
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> out = new java.util.ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
