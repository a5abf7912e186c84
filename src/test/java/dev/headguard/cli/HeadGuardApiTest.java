package dev.headguard.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headguard.api.HeadGuard;
import dev.headguard.api.InputFilter;
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

    private static List<String> fieldNames(JsonNode n) {
        List<String> out = new java.util.ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
