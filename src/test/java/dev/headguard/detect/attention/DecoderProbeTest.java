package dev.headguard.detect.attention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.headguard.detect.baseline.Strip;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.ModelOutput;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import dev.headguard.testing.HfOracle;
import dev.headguard.text.TokenBatch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The input scan's pass on a decoder language model: prompts of different lengths in one padded
 * batch give each prompt the statistics of its own last real row (the row that predicts the
 * continuation) and the first token's mass, exactly as the prompt alone does; every prompt is of one
 * class; STRIP's next-token entropy is the entropy of the language-model head at the prompt's end.
 */
class DecoderProbeTest {
    static final List<String> PROMPTS = List.of("a gripping , funny", "it 's a charming and often affecting journey that",
            "the acting is", "an unapologetic mess , whose only saving grace is that it ends");

    @ParameterizedTest
    @ValueSource(strings = {"gpt2-lm", "llama-lm"})
    void eachPromptGetsItsOwnLastRowAndFirstTokenStatistics(String name) throws Exception {
        Path fixture = HfOracle.fixtures().resolve(name);
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = ModelStore.load(fixture, root, 0)) {
            AttentionFeatures f = new AttentionFeatures(m.model().config(), EnumSet.of(AttentionFeatures.Family.CLS_ENTROPY, AttentionFeatures.Family.SEP_MASS));
            Probe.Result batch = Probe.run(m, PROMPTS, f, root, 4, Probe.Progress.NONE);
            int layers = m.model().config().numHiddenLayers();
            int heads = m.model().config().numAttentionHeads();
            for (int i = 0; i < PROMPTS.size(); i++) {
                assertArrayEquals(new float[] {1f}, batch.probabilities()[i], "a language model's prompts are all of one class");
                long[] ids = m.tokenizer().ids(PROMPTS.get(i));
                try (NDManager step = root.newSubManager()) {
                    TokenBatch.Arrays in = TokenBatch.of(List.of(ids), m.tokenizer().padId()).toArrays(step);
                    ModelOutput out = m.model().forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), ForwardOptions.INFERENCE.withAttentions());
                    int t = ids.length;
                    for (int l = 0; l < layers; l++) {
                        float[] a = out.attentions().get(l).toFloatArray(); // (1, N, T, T)
                        for (int h = 0; h < heads; h++) {
                            double entropy = 0;
                            for (int j = 0; j < t; j++) {
                                double p = a[((h * t) + t - 1) * t + j];
                                entropy -= p > 0 ? p * Math.log(p) : 0;
                            }
                            double first = 0;
                            for (int q = 0; q < t; q++) {
                                first += a[((h * t) + q) * t];
                            }
                            String where = name + " prompt " + i + " L" + l + "H" + h;
                            assertEquals(entropy / Math.log(t), batch.features()[i][f.index(AttentionFeatures.Family.CLS_ENTROPY, l, h)], 2e-4, where + " last-row entropy");
                            assertEquals(first / t, batch.features()[i][f.index(AttentionFeatures.Family.SEP_MASS, l, h)], 2e-4, where + " first-token mass");
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpt2-lm", "llama-lm"})
    void nextTokenEntropyIsTheLanguageModelHeadsAtThePromptsEnd(String name) throws Exception {
        Path fixture = HfOracle.fixtures().resolve(name);
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = ModelStore.load(fixture, root, 0)) {
            double[] h = Probe.nextTokenEntropies(m, PROMPTS, root, 3, Probe.Progress.NONE);
            for (int i = 0; i < PROMPTS.size(); i++) {
                long[] ids = m.tokenizer().ids(PROMPTS.get(i));
                try (NDManager step = root.newSubManager()) {
                    TokenBatch.Arrays in = TokenBatch.of(List.of(ids), m.tokenizer().padId()).toArrays(step);
                    ModelOutput out = m.model().forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), ForwardOptions.INFERENCE);
                    NDArray last = out.lastHiddenState().get(":, " + (ids.length - 1) + ", :");
                    float[] p = m.model().lmLogits(last).softmax(-1).toFloatArray();
                    double expected = 0;
                    for (float q : p) {
                        expected -= q > 0 ? q * Math.log(q) : 0;
                    }
                    assertEquals(expected, h[i], 1e-3, name + " prompt " + i);
                }
            }
            // STRIP's score is minus the mean over the perturbed copies: finite, and at most 0.
            double[] strip = Strip.fit(PROMPTS, Strip.Settings.defaults()).scores(m, PROMPTS, root, 8, Probe.Progress.NONE);
            for (double s : strip) {
                assertTrue(Double.isFinite(s) && s <= 0 && s >= -Math.log(m.model().config().vocabSize()) - 1e-6, "STRIP score " + s);
            }
        }
    }
}
