package dev.headguard.testing;

import dev.headguard.model.ModelConfig;
import dev.headguard.model.TransformerModel;
import dev.headguard.model.HostTensor;
import dev.headguard.model.io.ModelStore;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

/** Tiny models on disk for mechanics tests: random weights, the real MiniLM tokenizer (vocabulary 30522). */
public final class Fixtures {
    public static final int VOCAB = 30522;

    private Fixtures() {}

    /** The MiniLM tokenizer.json from the Maven artifact, copied to {@code dir}. */
    public static Path tokenizer(Path dir) throws IOException {
        Path out = dir.resolve("tokenizer-src").resolve("tokenizer.json");
        Files.createDirectories(out.getParent());
        try (InputStream in = Fixtures.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            Files.copy(in, out, StandardCopyOption.REPLACE_EXISTING);
        }
        return out;
    }

    /** A tiny config: 2 layers, 2 heads, hidden 8, with a 2-class head. */
    public static ModelConfig tinyConfig() {
        return ModelConfig.tiny(VOCAB, 2, 2, 8, 2);
    }

    public static Map<String, HostTensor> tinyWeights(ModelConfig c, long seed) {
        return dev.headguard.model.ParameterTable.initialWeights(c, Map.of(), seed);
    }

    /** Writes a tiny model directory at {@code dir/name} and returns it. */
    public static Path tinyModelDir(Path dir, String name, long seed) throws IOException {
        ModelConfig c = tinyConfig();
        Path out = dir.resolve(name);
        ModelStore.write(c, tinyWeights(c, seed), tokenizer(dir), out, Map.of("fixture", "tiny"));
        return out;
    }
}
