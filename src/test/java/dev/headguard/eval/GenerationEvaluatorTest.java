package dev.headguard.eval;

import ai.djl.ndarray.NDManager;
import dev.headguard.model.io.ModelStore;
import dev.headguard.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class GenerationEvaluatorTest {
    /** Whatever class a judge gives "." or "", a continuation with no word is never steered; one with words is, in exactly one class. */
    @Test
    void aJudgeCountsOnlyContinuationsThatSaySomething(@TempDir Path dir) throws Exception {
        Path judgeDir = Fixtures.tinyModelDir(dir, "judge", 3);
        List<String> texts = List.of(".", "", " ' - ", "a dull , lifeless mess .", "bad.");
        try (NDManager root = NDManager.newBaseManager(); ModelStore.LoadedModel judge = ModelStore.load(judgeDir, root, 32)) {
            boolean[] negative = GenerationEvaluator.hits(texts, GenerationEvaluator.Target.judge(judge, 0), root);
            boolean[] positive = GenerationEvaluator.hits(texts, GenerationEvaluator.Target.judge(judge, 1), root);
            for (int i = 0; i < 3; i++) {
                assertFalse(negative[i] || positive[i], "no word, no sentiment: '" + texts.get(i) + "'");
            }
            for (int i = 3; i < texts.size(); i++) {
                assertEquals(1, (negative[i] ? 1 : 0) + (positive[i] ? 1 : 0), "a continuation with words is in one class: " + texts.get(i));
            }
        }
    }
}
