package dev.headguard.model.io;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headguard.HeadGuardException;
import dev.headguard.model.ModelConfig;
import dev.headguard.model.ModelOutput;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.HostTensor;
import dev.headguard.model.TorchRuntime;
import dev.headguard.testing.Fixtures;
import dev.headguard.text.TokenBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelStoreTest {
    @TempDir
    Path tmp;

    @Test
    void tinyRandomModelRoundTripsBitForBit() throws IOException {
        ModelConfig c = Fixtures.tinyConfig();
        Map<String, HostTensor> weights = Fixtures.tinyWeights(c, 42);
        Path dir = tmp.resolve("tiny");
        ModelStore.write(c, weights, Fixtures.tokenizer(tmp), dir, Map.of());
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = ModelStore.load(dir, root, 16)) {
            assertEquals(c, m.model().config());
            Map<String, HostTensor> back = m.model().toHostTensors();
            assertEquals(weights.keySet(), back.keySet());
            weights.forEach((k, v) -> assertTrue(v.sameContent(back.get(k)), k));

            // Saving the loaded model again writes the same bytes.
            Path again = tmp.resolve("again");
            ModelStore.save(m.model(), m.tokenizer().file(), again, Map.of());
            assertArrayEquals(Files.readAllBytes(dir.resolve(ModelStore.WEIGHTS)), Files.readAllBytes(again.resolve(ModelStore.WEIGHTS)));
            assertEquals(Files.readString(dir.resolve(ModelStore.CONFIG)), Files.readString(again.resolve(ModelStore.CONFIG)));

            try (ModelStore.LoadedModel m2 = ModelStore.load(again, root, 16); NDManager mm = root.newSubManager()) {
                TokenBatch b = m.tokenizer().encode(List.of("a tiny test .", "another , longer test sentence ."));
                TokenBatch.Arrays in = b.toArrays(mm);
                ModelOutput o1 = m.model().forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), ForwardOptions.INFERENCE);
                ModelOutput o2 = m2.model().forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), ForwardOptions.INFERENCE);
                assertArrayEquals(o1.logits().toFloatArray(), o2.logits().toFloatArray());
            }
        }
    }

    @Test
    void everyWrittenModelNamesTheCodeThatWroteIt() throws IOException {
        ModelConfig c = Fixtures.tinyConfig();
        Path dir = tmp.resolve("named");
        ModelStore.write(c, Fixtures.tinyWeights(c, 1), Fixtures.tokenizer(tmp), dir, Map.of("command", "test"));
        JsonNode p = new ObjectMapper().readTree(dir.resolve(ModelStore.PROVENANCE).toFile());
        assertEquals("test", p.get("command").asText());
        assertEquals("headguard", p.get("written_by").asText());
        assertEquals(dev.headguard.BuildInfo.version(), p.get("headguard_version").asText());
        assertEquals(dev.headguard.BuildInfo.commit(), p.get("headguard_commit").asText());
    }

    @Test
    void writesWhatTransformersBertForSequenceClassificationWrites() throws IOException {
        ModelConfig c = Fixtures.tinyConfig().withLabels(List.of("negative", "positive"));
        Path dir = tmp.resolve("cls");
        ModelStore.write(c, Fixtures.tinyWeights(c, 1), Fixtures.tokenizer(tmp), dir, Map.of());
        JsonNode cfg = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        assertEquals("BertForSequenceClassification", cfg.get("architectures").get(0).asText());
        assertEquals("positive", cfg.get("id2label").get("1").asText());
        assertEquals(0, cfg.get("label2id").get("negative").asInt());
        assertEquals("bert", cfg.get("model_type").asText());
        Map<String, HostTensor> raw = SafeTensors.read(dir.resolve("model.safetensors")).tensors();
        assertTrue(raw.containsKey("bert.embeddings.word_embeddings.weight"));
        assertTrue(raw.containsKey("bert.encoder.layer.1.attention.self.query.weight"));
        assertTrue(raw.containsKey("bert.pooler.dense.weight"));
        assertTrue(raw.containsKey("classifier.weight"));
        assertArrayEquals(new long[] {2, 8}, raw.get("classifier.weight").shape());
        assertEquals("pt", SafeTensors.read(dir.resolve("model.safetensors")).metadata().get("format"));
        assertTrue(Files.exists(dir.resolve("tokenizer.json")));
        assertEquals(c, dev.headguard.model.ConfigJson.read(dir.resolve("config.json")));
    }

    @Test
    void importedMiniLmRoundTripsBitForBit() throws IOException {
        OnnxGraph g;
        try (InputStream in = getClass().getResourceAsStream("/all-minilm-l6-v2.onnx")) {
            g = OnnxGraph.read(in, "minilm");
        }
        OnnxBertImporter.Imported imported = OnnxBertImporter.convert(g, "minilm", null);
        assertEquals(6, imported.config().numHiddenLayers());
        assertEquals(12, imported.config().numAttentionHeads());
        assertEquals(1536, imported.config().intermediateSize());
        assertEquals(1e-12, imported.config().layerNormEps(), 1e-18);
        Path dir = tmp.resolve("minilm");
        ModelStore.write(imported.config(), imported.weights(), Fixtures.tokenizer(tmp), dir, Map.of());
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = ModelStore.load(dir, root, 0)) {
            Map<String, HostTensor> back = m.model().toHostTensors();
            assertEquals(imported.weights().keySet(), back.keySet());
            imported.weights().forEach((k, v) -> assertTrue(v.sameContent(back.get(k)), k));
        }
    }

    @Test
    void neverOverwritesTheInputModelOrUnrelatedFiles() throws IOException {
        Path dir = Fixtures.tinyModelDir(tmp, "model", 1);
        ModelConfig c = Fixtures.tinyConfig();
        HeadGuardException own = assertThrows(HeadGuardException.class,
                () -> ModelStore.write(c, Fixtures.tinyWeights(c, 2), dir.resolve("tokenizer.json"), dir, Map.of()));
        assertTrue(own.getMessage().contains("never modified"));
        Path notAModel = Files.createDirectories(tmp.resolve("home"));
        Files.writeString(notAModel.resolve("notes.txt"), "keep me");
        HeadGuardException other = assertThrows(HeadGuardException.class,
                () -> ModelStore.write(c, Fixtures.tinyWeights(c, 2), dir.resolve("tokenizer.json"), notAModel, Map.of()));
        assertTrue(other.getMessage().contains("refusing"));
        assertEquals("keep me", Files.readString(notAModel.resolve("notes.txt")));
        try (var s = Files.list(tmp)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().contains(".tmp-")), "no temporary directory left behind");
        }
    }

    @Test
    void refusesPickles() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("pickled"));
        Files.writeString(dir.resolve("config.json"), "{\"model_type\":\"bert\"}");
        Files.write(dir.resolve("model.pt"), new byte[] {(byte) 0x80, 2, 'c', 'o', 's'});
        HeadGuardException e = assertThrows(HeadGuardException.class, () -> ModelStore.readConfig(dir));
        assertTrue(e.getMessage().contains("model.pt: is a Python pickle but not pytorch_model.bin"), e.getMessage());
        // pytorch_model.bin goes to the restricted reader, which wants PyTorch's zip format
        Files.move(dir.resolve("model.pt"), dir.resolve("pytorch_model.bin"));
        Files.writeString(dir.resolve("config.json"), new String(Files.readAllBytes(Fixtures.tinyModelDir(tmp, "t", 1).resolve("config.json"))));
        e = assertThrows(HeadGuardException.class, () -> dev.headguard.model.io.WeightFiles.read(dir, ModelStore.readConfig(dir)));
        assertTrue(e.getMessage().contains("pytorch_model.bin: not a readable PyTorch zip checkpoint"), e.getMessage());
    }
}
