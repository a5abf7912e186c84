package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import dev.headguard.model.io.BuiltinModel;
import dev.headguard.model.io.ModelStore;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The options every command that loads a model shares. */
final class ModelOptions {
    @Option(names = "--model", paramLabel = "M", defaultValue = "minilm",
            description = "A HuggingFace model directory, or a built-in model: minilm, bge-small (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--max-len", paramLabel = "N",
            description = "Longest input in tokens; longer texts are truncated (default: the model's limit, at most 512).")
    Integer maxLength;

    /** The given --max-len, or the training default: 128 tokens, fewer when the model's positions end before. */
    int trainingLength() {
        checkMaxLength();
        return maxLength != null ? maxLength : Math.min(128, config().maxTokens());
    }

    /** Refuses, before any work, an {@code --out} directory that cannot be written or that is this model's own folder. */
    void checkOutput(Path out) {
        dev.headguard.model.io.ModelStore.checkOutputDirectory(out, "--out", directory());
    }

    private Path directory;
    private dev.headguard.model.ModelConfig config;

    /** The model's directory, resolved once (a built-in is imported, or its cache checked, on first use). */
    Path directory() {
        if (directory == null) {
            directory = BuiltinModel.resolve(model);
        }
        return directory;
    }

    dev.headguard.model.ModelConfig config() {
        if (config == null) {
            config = ModelStore.readConfig(directory());
        }
        return config;
    }

    /** One rule for every command: --max-len, when given, is at least 2 ([CLS] and [SEP]). */
    void checkMaxLength() {
        if (maxLength != null) {
            OptionChecks.atLeast("--max-len", maxLength, 2);
            OptionChecks.atMost("--max-len", maxLength, config().maxTokens(), "the model's positions");
        }
    }

    ModelStore.LoadedModel load(NDManager manager) {
        checkMaxLength();
        String unfinished = ModelStore.unfinishedTraining(directory());
        if (unfinished != null) {
            System.err.println("warning: " + unfinished);
        }
        return ModelStore.load(directory(), manager, maxLength == null ? 0 : maxLength);
    }
}
