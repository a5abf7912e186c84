package dev.headguard.inference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.KvCache;
import dev.headguard.model.io.ModelStore;
import dev.headguard.testing.HfOracle;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Decoder generation against transformers' generate, and the KV cache against recomputing everything. */
class GeneratorTest {

    /** Greedy continuations of four prompts equal transformers' generate token for token (one stops at its end-of-sequence token). */
    @ParameterizedTest
    @ValueSource(strings = {"gpt2-lm", "llama-lm", "qwen2-lm"})
    void greedyGenerationMatchesTransformers(String fixture) throws Exception {
        Path dir = HfOracle.fixtures().resolve(fixture);
        JsonNode runs = new ObjectMapper().readTree(dir.resolve("generation.json").toFile());
        try (NDManager root = NDManager.newBaseManager(); ModelStore.LoadedModel m = ModelStore.load(dir, root, 0)) {
            for (JsonNode run : runs) {
                long[] want = new long[run.get("tokens").size()];
                for (int i = 0; i < want.length; i++) {
                    want[i] = run.get("tokens").get(i).asLong();
                }
                Generator.Generation g = Generator.generate(m, run.get("prompt").asText(), Generator.Settings.greedy(32), root);
                assertArrayEquals(want, g.tokens(), fixture + ": " + run.get("prompt").asText());
            }
        }
    }

    /** Each cached step's logits equal those of a full forward pass over the text so far. */
    @ParameterizedTest
    @ValueSource(strings = {"gpt2-lm", "llama-lm"})
    void kvCacheEqualsFullRecomputation(String fixture) throws Exception {
        Path dir = HfOracle.fixtures().resolve(fixture);
        try (NDManager root = NDManager.newBaseManager(); ModelStore.LoadedModel m = ModelStore.load(dir, root, 0)) {
            long[] prompt = m.tokenizer().ids("a gripping , funny movie");
            long[] text = Generator.generate(m, "a gripping , funny movie", Generator.Settings.greedy(12), root).tokens();
            long[] all = concat(prompt, text);
            double worst = 0;
            try (KvCache cache = new KvCache(root, m.model().config().numHiddenLayers()); NDManager step = root.newSubManager()) {
                float[] cached = m.model().nextTokenLogits(step.create(prompt, new Shape(1, prompt.length)), cache).toFloatArray();
                for (int i = 0; i <= text.length; i++) {
                    int len = prompt.length + i;
                    NDArray ids = step.create(Arrays.copyOf(all, len), new Shape(1, len));
                    NDArray hidden = m.model().forward(ids, step.ones(new Shape(1, len), ai.djl.ndarray.types.DataType.INT64), null, ForwardOptions.INFERENCE).lastHiddenState();
                    float[] full = m.model().lmLogits(hidden.get(":, " + (len - 1) + ", :")).toFloatArray();
                    for (int v = 0; v < full.length; v++) {
                        worst = Math.max(worst, Math.abs(full[v] - cached[v]));
                    }
                    if (i < text.length) {
                        cached = m.model().nextTokenLogits(step.create(new long[] {text[i]}, new Shape(1, 1)), cache).toFloatArray();
                    }
                }
            }
            assertTrue(worst <= 1e-5, fixture + ": cached and recomputed logits differ by " + worst);
        }
    }

    /** Sampling is seeded: the same seed gives the same tokens, another seed another continuation. */
    @ParameterizedTest
    @ValueSource(strings = {"gpt2-lm"})
    void samplingIsSeeded(String fixture) throws Exception {
        Path dir = HfOracle.fixtures().resolve(fixture);
        try (NDManager root = NDManager.newBaseManager(); ModelStore.LoadedModel m = ModelStore.load(dir, root, 0)) {
            Generator.Settings a = new Generator.Settings(24, false, 1.5, 50, 0.95, 7);
            long[] first = Generator.generate(m, "the movie was", a, root).tokens();
            assertArrayEquals(first, Generator.generate(m, "the movie was", a, root).tokens());
            Generator.Settings b = new Generator.Settings(24, false, 1.5, 50, 0.95, 8);
            assertFalse(Arrays.equals(first, Generator.generate(m, "the movie was", b, root).tokens()));
            long[] greedy = Generator.generate(m, "the movie was", Generator.Settings.greedy(24), root).tokens();
            assertFalse(Arrays.equals(first, greedy), "temperature 1.5 sampling is not the greedy path");
            assertTrue(first.length > 0 && first.length <= 24);
        }
    }

    /** The command line: one JSON line per prompt with transformers' tokens; an encoder or a contradiction is refused in one line. */
    @org.junit.jupiter.api.Test
    void generateCommand(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path fx = HfOracle.fixtures();
        JsonNode runs = new ObjectMapper().readTree(fx.resolve("llama-lm/generation.json").toFile());
        Path prompts = tmp.resolve("prompts.txt");
        java.nio.file.Files.writeString(prompts, runs.get(0).get("prompt").asText() + "\n" + runs.get(1).get("prompt").asText() + "\n");
        var r = dev.headguard.cli.Main.capture("generate", "--model", fx.resolve("llama-lm").toString(), "--prompts", prompts.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().split("\n");
        assertEquals(2, lines.length);
        for (int i = 0; i < 2; i++) {
            JsonNode line = new ObjectMapper().readTree(lines[i]);
            assertEquals(runs.get(i).get("prompt").asText(), line.get("prompt").asText());
            assertEquals(runs.get(i).get("tokens"), line.get("tokens"));
            assertTrue(line.get("generation").isTextual());
        }
        Path jsonl = tmp.resolve("prompts.jsonl"); // prompts alone, as `poison` and users write them: the prompt, not the JSON line
        java.nio.file.Files.writeString(jsonl, new ObjectMapper().createObjectNode().put("prompt", runs.get(0).get("prompt").asText()) + "\n"
                + new ObjectMapper().createObjectNode().put("prompt", runs.get(1).get("prompt").asText()) + "\n");
        var fromJson = dev.headguard.cli.Main.capture("generate", "--model", fx.resolve("llama-lm").toString(), "--prompts", jsonl.toString(), "--json");
        assertEquals(r.out(), fromJson.out(), fromJson.err());
        var encoder = dev.headguard.cli.Main.capture("generate", "--model", fx.resolve("bert").toString(), "--prompts", prompts.toString());
        assertEquals(2, encoder.code());
        assertTrue(encoder.err().contains("generation needs a decoder") && encoder.err().strip().lines().count() == 1, encoder.err());
        var both = dev.headguard.cli.Main.capture("generate", "--model", fx.resolve("llama-lm").toString(), "--prompts", prompts.toString(), "--greedy", "--top-k", "5");
        assertEquals(2, both.code());
        assertTrue(both.err().contains("--greedy"), both.err());
    }

    private static long[] concat(long[] a, long[] b) {
        long[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
