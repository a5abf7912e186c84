package dev.headguard.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headguard.testing.TestData;
import dev.headguard.repair.RepairOutcome;
import dev.headguard.text.BenchmarkData;
import dev.headguard.train.TrainConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CellJsonTest {
    @Test
    void aCellKeepsItsBenchJsonFieldsWithTheOutcomeAsDetails() {
        DefenseBenchmark.Cell c = new DefenseBenchmark.Cell("badnets", "finetune", 0.9, 0.1, 0.05, 12.5, new RepairOutcome.Plain(Map.of("final_loss", 0.25)));
        JsonNode j = new ObjectMapper().valueToTree(c);
        List<String> names = new ArrayList<>();
        j.fieldNames().forEachRemaining(names::add);
        assertEquals(List.of("attack", "defense", "cacc", "asr", "labelFlipRate", "seconds", "details"), names);
        assertEquals(0.25, j.get("details").get("final_loss").asDouble());
    }

    /** bench.json's "settings" keep their flat fields, in their order, although the victims' part is its own record. */
    @Test
    void benchSettingsKeepTheirFlatFields() {
        DefenseBenchmark.Settings s = new DefenseBenchmark.Settings(List.of("badnets"), List.of("finetune"), new BenchmarkData(TestData.dataDir(), "sst-2"),
                new DefenseBenchmark.VictimBuild(Path.of("base"), Path.of("victims"), 2000, TrainConfig.defaults(), 128), 0.1, 300, false, 42);
        JsonNode j = new ObjectMapper().valueToTree(s);
        List<String> names = new ArrayList<>();
        j.fieldNames().forEachRemaining(names::add);
        assertEquals(List.of("attacks", "defenses", "data", "baseModel", "victims", "trainLimit", "train", "maxLength", "cleanBudget", "testLimit",
                "cleanFloor", "seed"), names);
        assertEquals(2000, j.get("trainLimit").asInt());
        // Victims poisoned other than by each attack's default say so, after the flat victim fields.
        DefenseBenchmark.Settings cleanLabel = new DefenseBenchmark.Settings(List.of("badnets"), List.of("finetune"), s.data(),
                new DefenseBenchmark.VictimBuild(Path.of("base"), Path.of("victims"), 2000, TrainConfig.defaults(), 128,
                        new DefenseBenchmark.Poisoning(dev.headguard.attack.PoisonMode.CLEAN, 0.2, true)), 0.1, 300, false, 42);
        JsonNode c = new ObjectMapper().valueToTree(cleanLabel);
        List<String> withPoisoning = new ArrayList<>();
        c.fieldNames().forEachRemaining(withPoisoning::add);
        assertEquals("poisoning", withPoisoning.get(names.indexOf("maxLength") + 1));
        assertEquals("clean", c.get("poisoning").get("mode").asText());
        assertEquals(0.2, c.get("poisoning").get("rate").asDouble());
        assertEquals(TrainConfig.defaults().epochs(), j.get("train").get("epochs").asInt());
    }
}
