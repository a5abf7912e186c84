package dev.headguard.model.io;

import ai.djl.ndarray.NDManager;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.headguard.model.TransformerModel;
import dev.headguard.model.ModelOutput;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.TorchRuntime;
import dev.headguard.testing.TestData;
import dev.headguard.text.SentenceFile;
import dev.headguard.text.TokenBatch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.LongBuffer;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The imported built-in models against ONNX Runtime running the original export: the last hidden
 * state of 64 real SST-2 sentences must agree to 1e-5 (max abs), and so must the mean-pooled
 * sentence embeddings. Prints the max difference, as llm.c's reference checks do.
 */
class OnnxParityTest {
    static final int SENTENCES = 64;
    static final int BATCH = 16; // several batches, so padding differs between them

    @ParameterizedTest
    @EnumSource(BuiltinModel.class)
    void importedModelMatchesOnnxRuntime(BuiltinModel builtin) throws Exception {
        List<String> sentences = SentenceFile.readTsvColumn(TestData.sst2Test(), "sentence").subList(0, SENTENCES);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        double maxHidden = 0;
        double maxEmbedding = 0;
        try (NDManager root = TorchRuntime.newManager();
             ModelStore.LoadedModel m = ModelStore.load(builtin.directory(), root, 128);
             OrtSession.SessionOptions so = new OrtSession.SessionOptions();
             OrtSession ort = env.createSession(builtin.onnxBytes(), so)) {
            for (int from = 0; from < SENTENCES; from += BATCH) {
                TokenBatch batch = m.tokenizer().encode(sentences.subList(from, from + BATCH));
                float[][][] expected = runOrt(env, ort, batch);
                try (NDManager mm = root.newSubManager()) {
                    TokenBatch.Arrays in = batch.toArrays(mm);
                    ModelOutput out = m.model().forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), ForwardOptions.INFERENCE);
                    float[] got = out.lastHiddenState().toFloatArray();
                    float[] pooled = TransformerModel.meanPool(out.lastHiddenState(), in.attentionMask()).toFloatArray();
                    int e = (int) out.lastHiddenState().getShape().get(2);
                    for (int b = 0; b < batch.batch(); b++) {
                        float[] ortPooled = new float[e];
                        for (int t = 0; t < batch.lengths()[b]; t++) { // real tokens
                            for (int k = 0; k < e; k++) {
                                float want = expected[b][t][k];
                                maxHidden = Math.max(maxHidden, Math.abs(want - got[(b * batch.length() + t) * e + k]));
                                ortPooled[k] += want / batch.lengths()[b];
                            }
                        }
                        for (int k = 0; k < e; k++) {
                            maxEmbedding = Math.max(maxEmbedding, Math.abs(ortPooled[k] - pooled[b * e + k]));
                        }
                    }
                }
            }
        }
        System.out.printf("parity %s: max |hidden - ort| = %.3g, max |embedding - ort| = %.3g over %d sentences%n",
                builtin.cliName, maxHidden, maxEmbedding, SENTENCES);
        assertTrue(maxHidden <= 1e-5, builtin.cliName + ": last hidden state differs from ONNX Runtime by " + maxHidden);
        assertTrue(maxEmbedding <= 1e-5, builtin.cliName + ": embedding differs from ONNX Runtime by " + maxEmbedding);
    }

    /** The command a user runs, {@code headguard embed}, against ONNX Runtime plus mean pooling. */
    @org.junit.jupiter.api.Test
    void embedCommandReproducesOnnxRuntimeEmbeddings(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        List<String> sentences = SentenceFile.readTsvColumn(TestData.sst2Test(), "sentence").subList(0, SENTENCES);
        java.nio.file.Path input = java.nio.file.Files.write(tmp.resolve("in.txt"), sentences);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.out;
        int code;
        try {
            System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
            code = dev.headguard.cli.Main.execute("embed", "--model", "minilm", "--input", input.toString());
        } finally {
            System.setOut(old);
        }
        assertTrue(code == 0, "embed exit code " + code);
        String[] lines = out.toString(java.nio.charset.StandardCharsets.UTF_8).strip().split("\n");
        assertTrue(lines.length == SENTENCES, lines.length + " lines");
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        double max = 0;
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        try (NDManager root = TorchRuntime.newManager();
             ModelStore.LoadedModel m = ModelStore.load(BuiltinModel.MINILM.directory(), root, 0);
             OrtSession ort = env.createSession(BuiltinModel.MINILM.onnxBytes(), new OrtSession.SessionOptions())) {
            for (int i = 0; i < SENTENCES; i++) {
                TokenBatch one = m.tokenizer().encode(List.of(sentences.get(i))); // alone: no padding at all
                float[][] hidden = runOrt(env, ort, one)[0];
                com.fasterxml.jackson.databind.JsonNode got = json.readTree(lines[i]).get("embedding");
                for (int k = 0; k < hidden[0].length; k++) {
                    double mean = 0;
                    for (float[] token : hidden) {
                        mean += token[k];
                    }
                    mean /= hidden.length;
                    max = Math.max(max, Math.abs(mean - got.get(k).asDouble()));
                }
            }
        }
        System.out.printf("parity embed command (minilm): max |embedding - ort mean pooling| = %.3g over %d sentences%n", max, SENTENCES);
        assertTrue(max <= 1e-5, "embed differs from ONNX Runtime by " + max);
    }

    static float[][][] runOrt(OrtEnvironment env, OrtSession ort, TokenBatch batch) throws Exception {
        long[] shape = {batch.batch(), batch.length()};
        try (OnnxTensor ids = OnnxTensor.createTensor(env, LongBuffer.wrap(batch.ids()), shape);
             OnnxTensor mask = OnnxTensor.createTensor(env, LongBuffer.wrap(batch.mask()), shape);
             OnnxTensor types = OnnxTensor.createTensor(env, LongBuffer.wrap(batch.types()), shape);
             OrtSession.Result r = ort.run(Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types))) {
            return (float[][][]) r.get(0).getValue();
        }
    }
}
