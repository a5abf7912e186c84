package dev.headguard.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.headguard.model.io.ModelStore;
import dev.headguard.model.io.SafeTensors;
import dev.headguard.testing.HfOracle;
import dev.headguard.text.TokenBatch;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every encoder family against HuggingFace transformers: a random-init fixture per family (made by
 * scripts/make-hf-fixtures.py) and 16 real SST-2 sentences with padding; logits within 1e-4,
 * attention probabilities within 1e-5 and hidden states within 1e-4 on every real token.
 */
class FamilyParityTest {
    /** Logit tolerance of a bfloat16 checkpoint against its float32 original (measured: see docs/results.md). */
    static final double BF16_LOGITS = 0.01;

    /** The families, plus BERT's weights as shards and in bfloat16 (compared with transformers' float32 upcast). */
    @ParameterizedTest
    @ValueSource(strings = {"bert", "roberta", "xlm-roberta", "distilbert", "electra", "deberta-v2", "deberta-v2-unshared", "gpt2", "llama", "mistral", "qwen2", "bert-sharded", "bert-bf16"})
    void matchesTransformers(String fixture) throws Exception {
        Path dir = HfOracle.fixtures().resolve(fixture);
        String family = fixture.replaceAll("-(sharded|bf16|unshared)$", "");
        Map<String, HostTensor> ref = SafeTensors.read(dir.resolve("reference.safetensors")).tensors();
        List<String> sentences = Files.readAllLines(dir.resolve("sentences.txt")).stream().filter(s -> !s.isEmpty()).toList();
        try (NDManager root = NDManager.newBaseManager();
             ModelStore.LoadedModel m = ModelStore.load(dir, root, 0)) {
            assertEquals(family, m.model().config().family().modelType);
            TokenBatch batch = m.tokenizer().encode(sentences);
            long[] refIds = ref.get("input_ids").toLongs();
            assertArrayEquals(refIds, batch.ids(), "the tokenizer gives transformers' ids, padding included");
            long[] mask = ref.get("attention_mask").toLongs();
            int b = batch.batch();
            int t = batch.length();
            try (NDManager step = root.newSubManager()) {
                TokenBatch.Arrays in = batch.toArrays(step);
                ModelOutput out = m.model().forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(),
                        ForwardOptions.INFERENCE.withAttentions().withHiddenStates());
                assertClose(ref.get("logits").toFloats(), out.logits().toFloatArray(), 1e-4, fixture + " logits");
                if (fixture.endsWith("-bf16")) {
                    // Against the float32 model the bf16 weights were rounded from: bf16 keeps 8 significant bits.
                    float[] f32 = SafeTensors.read(dir.resolveSibling(family).resolve("reference.safetensors")).tensors().get("logits").toFloats();
                    assertClose(f32, out.logits().toFloatArray(), BF16_LOGITS, fixture + " logits against float32");
                }
                int layers = m.model().config().numHiddenLayers();
                assertEquals(layers + 1, out.hiddenStates().size());
                for (int l = 0; l <= layers; l++) {
                    float[] want = ref.get("hidden_states." + l).toFloats();
                    float[] got = out.hiddenStates().get(l).toFloatArray();
                    int e = want.length / (b * t);
                    assertClose(realTokens(want, mask, t, 1, e), realTokens(got, mask, t, 1, e), 1e-4, family + " hidden state " + l);
                }
                int heads = m.model().config().numAttentionHeads();
                for (int l = 0; l < layers; l++) {
                    float[] want = ref.get("attentions." + l).toFloats();
                    float[] got = out.attentions().get(l).toFloatArray();
                    assertClose(realTokens(want, mask, t, heads, t), realTokens(got, mask, t, heads, t), 1e-5, family + " attention " + l);
                }
            }
        }
    }

    /** A model HeadGuard changed and saved loads in transformers under its family's class, with HeadGuard's logits. */
    @ParameterizedTest
    @ValueSource(strings = {"bert", "roberta", "xlm-roberta", "distilbert", "electra", "deberta-v2", "deberta-v2-unshared", "gpt2", "llama", "mistral", "qwen2"})
    void writtenModelLoadsBackInTransformers(String family, @TempDir Path tmp) throws Exception {
        Path dir = HfOracle.fixtures().resolve(family);
        Path sentences = dir.resolve("sentences.txt");
        Path written = tmp.resolve("written");
        float[] ours;
        try (NDManager root = NDManager.newBaseManager();
             ModelStore.LoadedModel m = ModelStore.load(dir, root, 0)) {
            // A visible change, so the check reads the written file and not the fixture.
            NDArray out = m.model().parameters().get(m.model().config().family().head.out + ".weight");
            float[] w = out.toFloatArray();
            for (int i = 0; i < w.length; i++) {
                w[i] *= 1.5f + (i % 3);
            }
            out.set(w);
            ModelStore.save(m.model(), dir.resolve(ModelStore.TOKENIZER), written, Map.of());
            try (NDManager step = root.newSubManager()) {
                TokenBatch.Arrays in = m.tokenizer().encode(Files.readAllLines(sentences).stream().filter(s -> !s.isEmpty()).toList()).toArrays(step);
                ours = m.model().forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), ForwardOptions.INFERENCE).logits().toFloatArray();
            }
        }
        Path logits = tmp.resolve("hf.safetensors");
        Process p = new ProcessBuilder(HfOracle.python().toString(), "scripts/hf-logits.py", written.toString(), sentences.toString(), logits.toString())
                .redirectErrorStream(true).redirectOutput(tmp.resolve("hf.log").toFile()).start();
        assertTrue(p.waitFor(5, java.util.concurrent.TimeUnit.MINUTES) && p.exitValue() == 0, "transformers loads it: " + Files.readString(tmp.resolve("hf.log")));
        SafeTensors.Contents hf = SafeTensors.read(logits);
        assertEquals(classStem(family) + "ForSequenceClassification", hf.metadata().get("class"));
        assertClose(ours, hf.tensors().get("logits").toFloats(), 1e-4, family + " logits in transformers");
    }

    private static String classStem(String fixture) {
        return Family.of(fixture.replaceAll("-unshared$", "")).classStem;
    }

    /** The rows of real query tokens of a (B, heads, T, width) array, flattened (padding rows are meaningless). */
    private static float[] realTokens(float[] x, long[] mask, int t, int heads, int width) {
        int b = mask.length / t;
        float[] out = new float[x.length];
        int n = 0;
        for (int i = 0; i < b; i++) {
            for (int h = 0; h < heads; h++) {
                for (int q = 0; q < t; q++) {
                    if (mask[i * t + q] != 0) {
                        System.arraycopy(x, ((i * heads + h) * t + q) * width, out, n, width);
                        n += width;
                    }
                }
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }

    private static void assertClose(float[] want, float[] got, double tolerance, String what) {
        assertEquals(want.length, got.length, what + ": size");
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            worst = Math.max(worst, Math.abs(want[i] - got[i]));
        }
        assertTrue(worst <= tolerance, what + ": max abs difference " + worst + " over " + tolerance);
    }
}
