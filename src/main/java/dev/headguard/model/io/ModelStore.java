package dev.headguard.model.io;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.AtomicFiles;
import dev.headguard.BuildInfo;
import dev.headguard.HeadGuardException;
import dev.headguard.model.ModelConfig;
import dev.headguard.model.TransformerModel;
import dev.headguard.model.HostTensor;
import dev.headguard.text.TextTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Model directories in the HuggingFace layout: {@code config.json}, {@code model.safetensors},
 * {@code tokenizer.json}. What HeadGuard writes loads in Python {@code transformers} unchanged:
 * a model with a classification head is saved as its family's {@code *ForSequenceClassification}
 * (prefixed encoder names plus the head's), a bare encoder as {@code *Model}; the names are the
 * family's ({@link dev.headguard.model.Family}). Directories are written to a temporary sibling and moved into place, so a
 * failure never leaves a half-written model, and a loaded model's own directory is never
 * overwritten.
 */
public final class ModelStore {
    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";
    public static final String TOKENIZER = "tokenizer.json";
    public static final String PROVENANCE = "headguard.json";
    /** What a poisoned data set directory records about itself. */
    public static final String MANIFEST = "manifest.json";

    /** A model with its tokenizer, loaded from {@code directory}. */
    public record LoadedModel(TransformerModel model, TextTokenizer tokenizer, Path directory) implements AutoCloseable {
        @Override
        public void close() {
            model.close();
            tokenizer.close();
        }
    }

    private ModelStore() {}

    /**
     * Loads a model directory.
     *
     * @param maxLength longest input in tokens; 0 for the model's limit (at most 512)
     */
    public static LoadedModel load(Path dir, NDManager manager, int maxLength) {
        ModelConfig config = readConfig(dir);
        Map<String, HostTensor> weights = WeightFiles.read(dir, config);
        TextTokenizer tokenizer = openTokenizer(dir, config, maxLength);
        try {
            return new LoadedModel(new TransformerModel(config, weights, manager), tokenizer, dir);
        } catch (IllegalArgumentException e) {
            tokenizer.close();
            throw new HeadGuardException(WeightFiles.file(dir) + ": " + e.getMessage());
        }
    }

    public static ModelConfig readConfig(Path dir) {
        requireDirectory(dir);
        WeightFiles.refusePickles(dir);
        return dev.headguard.model.ConfigJson.read(dir.resolve(CONFIG));
    }

    /** The tokenizer of a model directory, checked against the model's vocabulary. */
    public static TextTokenizer openTokenizer(Path dir, ModelConfig config, int maxLength) {
        int len = maxLength > 0 ? maxLength : Math.min(512, config.maxTokens());
        if (len > config.maxTokens()) {
            throw new HeadGuardException("max length " + len + " exceeds the model's " + config.maxTokens() + " positions");
        }
        TextTokenizer t = TextTokenizer.open(dir.resolve(TOKENIZER), len);
        checkVocabulary(t, config, dir.resolve(TOKENIZER));
        return t;
    }

    static void checkVocabulary(TextTokenizer t, ModelConfig config, Path file) {
        if (t.idLimit() > config.vocabSize()) {
            t.close();
            throw new HeadGuardException(file + ": produces token ids up to " + (t.idLimit() - 1)
                    + " but the model's vocab_size is " + config.vocabSize() + ": tokenizer and model do not match");
        }
    }

    /** headguard.json's field saying a training run that wrote the directory finished (absent: not written by train). */
    public static final String TRAINING_COMPLETE = "training_complete";

    /** Sets {@link #TRAINING_COMPLETE} in {@code dir}'s headguard.json (atomically): the run that wrote it finished. */
    public static void markTrainingComplete(Path dir) {
        Path f = dir.resolve(PROVENANCE);
        if (!Files.isRegularFile(f)) {
            return; // no epoch was written (nothing to mark)
        }
        try {
            ObjectNode p = (ObjectNode) new ObjectMapper().readTree(f.toFile());
            p.put(TRAINING_COMPLETE, true);
            AtomicFiles.write(f, new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(p) + "\n");
        } catch (IOException | ClassCastException e) {
            throw new HeadGuardException(f + ": cannot mark the training run complete (" + HeadGuardException.brief(e.getMessage()) + ")");
        }
    }

    /**
     * A warning when {@code dir} was written by a training run that did not finish (killed or failed: the
     * best epoch so far, not the model asked for), else null.
     */
    public static String unfinishedTraining(Path dir) {
        Path f = dir.resolve(PROVENANCE);
        if (!Files.isRegularFile(f)) {
            return null;
        }
        try {
            com.fasterxml.jackson.databind.JsonNode p = new ObjectMapper().readTree(f.toFile());
            if (p.path(TRAINING_COMPLETE).isBoolean() && !p.path(TRAINING_COMPLETE).asBoolean()) {
                return dir + ": written by a training run that did not finish (best epoch " + p.path("best_epoch").asText("?") + " of "
                        + p.path("train_config").path("epochs").asText("?") + "); resume it with train --resume, or retrain";
            }
            return null;
        } catch (IOException e) {
            return null;
        }
    }

    /** Saves a live model. {@code tokenizerJson} is copied; {@code provenance} goes to headguard.json. */
    public static void save(TransformerModel model, Path tokenizerJson, Path out, Map<String, Object> provenance) {
        write(model.config(), model.toHostTensors(), tokenizerJson, out, provenance);
    }

    /** Writes a directory from weights by HeadGuard's names, replacing {@code out} atomically. */
    public static void write(ModelConfig config, Map<String, HostTensor> weights, Path tokenizerJson, Path out, Map<String, Object> provenance) {
        Path target = out.toAbsolutePath().normalize();
        // The tokenizer's folder is the input model's when a loaded model is saved (a temporary file's for an import).
        if (realPath(target).equals(realPath(tokenizerJson.toAbsolutePath().normalize().getParent()))) {
            throw new HeadGuardException(out + ": is the input model's own directory; write to another directory (an input model is never modified)");
        }
        Map<String, HostTensor> named = new LinkedHashMap<>();
        boolean pooler = weights.containsKey("pooler.dense.weight");
        for (String name : dev.headguard.model.ParameterTable.shapes(config, pooler || config.hasClassifier()).keySet()) {
            HostTensor t = weights.get(name);
            if (t == null) {
                throw new IllegalArgumentException("missing weight " + name);
            }
            named.put(name, t);
        }
        Map<String, HostTensor> checkpoint = dev.headguard.model.Checkpoints.write(config, named);
        writeDirectory(target, tmp -> {
            dev.headguard.model.ConfigJson.write(config, tmp.resolve(CONFIG));
            SafeTensors.write(tmp.resolve(WEIGHTS), checkpoint, Map.of("format", "pt"));
            Files.copy(tokenizerJson, tmp.resolve(TOKENIZER));
            ObjectNode p = new ObjectMapper().valueToTree(provenance == null ? Map.of() : provenance);
            p.put("written_by", "headguard");
            p.put("headguard_version", BuildInfo.version());
            p.put("headguard_commit", BuildInfo.commit()); // which code made it: see BuildInfo
            Files.writeString(tmp.resolve(PROVENANCE), new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(p) + "\n");
        });
    }

    /** Something that fills a directory. */
    public interface DirectoryWriter {
        void fill(Path dir) throws IOException;
    }

    /**
     * Fills a temporary sibling of {@code target}, then moves it into place. An existing target is
     * replaced only when it is empty or is a HeadGuard output (a model's config.json, or a data
     * set's manifest.json), so a mistyped --out never wipes unrelated files.
     */
    public static void writeDirectory(Path out, DirectoryWriter writer) {
        checkOutputDirectory(out, null, null);
        Path target = out.toAbsolutePath().normalize();
        Path parent = target.getParent();
        Path tmp = null;
        try {
            Files.createDirectories(parent);
            deleteStaleTemporaries(parent, target.getFileName().toString());
            tmp = Files.createTempDirectory(parent, "." + target.getFileName() + ".tmp-");
            writer.fill(tmp);
            if (Files.exists(target)) {
                Path old = Files.createTempDirectory(parent, "." + target.getFileName() + ".old-");
                Files.delete(old);
                Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
                deleteRecursively(old);
            } else {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            }
            tmp = null;
        } catch (IOException e) {
            throw new HeadGuardException(target + ": cannot write (" + e.getMessage() + ")");
        } finally {
            if (tmp != null) {
                deleteRecursively(tmp);
            }
        }
    }

    /**
     * Checks, before any work, that {@code out} may become an output directory: not the root, not a file,
     * empty or a HeadGuard output (a model's config.json, a data set's manifest.json) if it exists, creatable
     * where it does not, and neither inside nor above {@code input} (a model that must not be modified;
     * compared as real paths, so a link to it is the same folder). The writer applies the same rule.
     * @param option the option that named it ({@code --out}), for the message; may be null
     * @param input  the input model's directory, or null
     */
    public static void checkOutputDirectory(Path out, String option, Path input) {
        Path target = out.toAbsolutePath().normalize();
        String label = AtomicFiles.label(out, option);
        if (target.getParent() == null) {
            throw new HeadGuardException(label + ": is the root folder; give a new or empty folder");
        }
        if (Files.exists(target)) {
            if (!Files.isDirectory(target)) {
                throw new HeadGuardException(label + ": exists and is not a directory");
            }
            try {
                if (!isEmpty(target) && !Files.exists(target.resolve(CONFIG)) && !Files.exists(target.resolve(MANIFEST))) {
                    throw new HeadGuardException(label + ": exists and is not a HeadGuard output directory; refusing to replace it");
                }
            } catch (IOException e) {
                throw new HeadGuardException(label + ": cannot read it (" + HeadGuardException.brief(e.getMessage()) + ")");
            }
        }
        if (input != null && Files.exists(input)) {
            Path in = realPath(input);
            Path real = realPath(target);
            if (real.equals(in)) {
                throw new HeadGuardException(label + ": is the input model's own directory; write to another directory (an input model is never modified)");
            }
            if (real.startsWith(in) || in.startsWith(real)) {
                throw new HeadGuardException(label + ": is " + (real.startsWith(in) ? "inside" : "above") + " the input model's directory " + in
                        + "; write to another directory (an input model is never modified)");
            }
        }
        AtomicFiles.checkFolder(target.getParent(), label);
    }

    /**
     * Removes what a killed writer of {@code name} left beside it ({@code .NAME.tmp-*}, {@code .NAME.old-*}).
     * Only those untouched for an hour: a write takes seconds, so a younger one may be another process's.
     */
    static void deleteStaleTemporaries(Path parent, String name) {
        deleteTemporaries(parent, name, System.currentTimeMillis() - STALE_MILLIS);
    }

    /** Deletes {@code dir} and every temporary a writer of it left beside it, of any age (a finished run's checkpoint). */
    public static void deleteWithTemporaries(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        deleteRecursively(abs);
        if (abs.getParent() != null) {
            deleteTemporaries(abs.getParent(), abs.getFileName().toString(), Long.MAX_VALUE);
        }
    }

    private static void deleteTemporaries(Path parent, String name, long cutoff) {
        try (Stream<Path> s = Files.list(parent)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith("." + name + ".tmp-")
                    || p.getFileName().toString().startsWith("." + name + ".old-")).toList()) {
                if (Files.getLastModifiedTime(p).toMillis() < cutoff) {
                    deleteRecursively(p);
                }
            }
        } catch (IOException e) {
            // best effort: a leftover is harmless, a failed cleanup must not fail the write
        }
    }

    static final long STALE_MILLIS = 3_600_000L;

    /** The real path of {@code p}, or of its nearest existing ancestor with the rest appended. */
    private static Path realPath(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = abs;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        try {
            return existing == null ? abs : existing.toRealPath().resolve(existing.relativize(abs));
        } catch (IOException e) {
            return abs;
        }
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

    /** Deletes a directory tree, best effort (used for temporary and finished-with directories). */
    public static void deleteRecursively(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(x -> x.toFile().delete());
        } catch (IOException ignored) {
            // best effort: a leftover temp directory is harmless
        }
    }

    private static void requireDirectory(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new HeadGuardException(dir + ": model directory not found");
        }
    }

}
