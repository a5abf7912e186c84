package dev.headguard.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headguard.repair.RepairOutcome;
import org.junit.jupiter.api.Test;

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
}
