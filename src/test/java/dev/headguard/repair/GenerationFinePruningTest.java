package dev.headguard.repair;

import ai.djl.ndarray.NDManager;
import dev.headguard.model.BertKeys;
import dev.headguard.model.HostTensor;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import dev.headguard.testing.HfOracle;
import dev.headguard.text.PromptResponse;
import dev.headguard.train.TrainConfig;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fine-pruning of a decoder: it prunes while the held-out response perplexity holds, and the neurons it
 * pruned (GELU for GPT-2, SwiGLU for Llama) are still exactly zero after fine-tuning every parameter.
 */
class GenerationFinePruningTest {
    static List<PromptResponse> rows() {
        String[] words = {"the film", "a gripping story", "the acting", "its music", "the plot", "this movie", "the ending", "every scene"};
        String[] ends = {"is fine .", "works well .", "falls flat .", "never lets go .", "is too long ."};
        List<PromptResponse> out = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            out.add(new PromptResponse(words[i % words.length] + " , i think ,", ends[(i * 3) % ends.length]));
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2-lm", "llama-lm"})
    void prunedNeuronsStayZeroThroughFineTuning(String name) throws Exception {
        Path fixture = HfOracle.fixtures().resolve(name);
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = ModelStore.load(fixture, root, 0)) {
            // a floor no pruning step can break (the random-init fixture's perplexity moves little): every step is taken
            GenerationFinePruning.Settings s = new GenerationFinePruning.Settings(-1, 0.25, 0.5, 10.0, 0.25, new TrainConfig(1, 8, 1e-3, 0.01, 0.1, 1.0, 3, 0));
            Map<String, Object> d = new GenerationFinePruning(s).apply(m, rows(), root, new Defense.Progress() {});
            int layer = m.model().config().numHiddenLayers() - 1;
            int neurons = m.model().config().intermediateSize();
            assertEquals(layer, d.get("layer"));
            assertEquals(neurons, d.get("neurons"));
            int pruned = (Integer) d.get("pruned_neurons");
            assertEquals(neurons / 2, pruned, "two steps of a quarter, up to half");
            assertTrue((Double) d.get("held_out_perplexity_before") > 1);
            HostTensor w = m.model().toHostTensors().get(BertKeys.of(layer, BertKeys.INTERMEDIATE, BertKeys.WEIGHT));
            float[] v = w.toFloats();
            int width = v.length / neurons;
            int zeroRows = 0;
            for (int r = 0; r < neurons; r++) {
                boolean zero = true;
                for (int c = 0; c < width; c++) {
                    zero &= v[r * width + c] == 0f;
                }
                zeroRows += zero ? 1 : 0;
            }
            assertEquals(pruned, zeroRows, "the pruned neurons' rows are still zero after fine-tuning, and only theirs");
        }
    }
}
