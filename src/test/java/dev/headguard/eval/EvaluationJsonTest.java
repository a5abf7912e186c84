package dev.headguard.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A victim's headguard.json keeps its "evaluation" fields flat and in their order, although the record groups the triggered counts. */
class EvaluationJsonTest {
    @Test
    void theEvaluationKeepsItsFlatFields() {
        Evaluation e = new Evaluation(100, 90, 0.9, 1, new Evaluation.Triggered(50, 40, 38, 0.95, 30, 29, 29 / 30.0));
        JsonNode j = new ObjectMapper().valueToTree(e);
        List<String> names = new ArrayList<>();
        j.fieldNames().forEachRemaining(names::add);
        assertEquals(List.of("cleanTotal", "cleanCorrect", "cacc", "target", "triggeredTotal", "asrBase", "toTarget", "asr", "flipBase", "flipped",
                "labelFlipRate"), names);
        assertEquals(50, j.get("triggeredTotal").asInt());
        assertEquals(0.95, j.get("asr").asDouble());
    }
}
