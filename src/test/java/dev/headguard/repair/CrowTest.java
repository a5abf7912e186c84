package dev.headguard.repair;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import dev.headguard.testing.HfOracle;
import dev.headguard.text.ResponseEncoding;
import dev.headguard.text.TokenBatch;
import dev.headguard.train.TrainConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CROW's consistency term by hand, and its fine-tuning lowering that term on the clean rows. */
class CrowTest {
    @Test
    void consistencyIsTheMeanOfOneMinusCosineOverAdjacentStatesAndRealTokens() {
        try (NDManager m = TorchRuntime.newManager()) {
            // one text, two tokens (the second is padding), three states of width 2
            NDArray h0 = m.create(new float[] {1, 0, 5, 5}, new Shape(1, 2, 2));
            NDArray h1 = m.create(new float[] {0, 1, -5, 5}, new Shape(1, 2, 2));   // 90° from h0 on the real token
            NDArray h2 = m.create(new float[] {0, 2, 1, 1}, new Shape(1, 2, 2));    // parallel to h1 on it
            NDArray mask = m.create(new long[] {1, 0}, new Shape(1, 2));
            double expected = ((1 - 0) + (1 - 1)) / 2.0;
            assertEquals(expected, Crow.consistency(List.of(h0, h1, h2), mask, m).getFloat(), 1e-6);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2-lm", "llama-lm"})
    void fineTuningWithCrowLowersTheLayerGapsOfTheCleanRows(String name) throws Exception {
        Path fixture = HfOracle.fixtures().resolve(name);
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = ModelStore.load(fixture, root, 0)) {
            var rows = GenerationFinePruningTest.rows();
            List<long[]> ids = ResponseEncoding.encode(m.tokenizer(), rows, m.model().config().decoder().eosTokenId()).rows().stream()
                    .map(ResponseEncoding.Encoded::ids).toList();
            double before = gaps(m, ids, root);
            Map<String, Object> d = new Crow(new Crow.Settings(0.1, 5.5, new TrainConfig(2, 8, 1e-3, 0.01, 0.1, 1.0, 3, 0)))
                    .apply(m, rows, root, new Defense.Progress() {});
            double after = gaps(m, ids, root);
            assertEquals(rows.size(), d.get("rows"));
            assertTrue(Double.isFinite(after) && after < before, name + ": layer gaps " + before + " -> " + after);
        }
    }

    private static double gaps(ModelStore.LoadedModel m, List<long[]> ids, NDManager root) {
        try (NDManager step = root.newSubManager()) {
            TokenBatch.Arrays in = TokenBatch.of(ids, m.tokenizer().padId()).toArrays(step);
            var h = m.model().forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), ForwardOptions.INFERENCE.withHiddenStates()).hiddenStates();
            return Crow.consistency(h, in.attentionMask(), step).getFloat();
        }
    }
}
