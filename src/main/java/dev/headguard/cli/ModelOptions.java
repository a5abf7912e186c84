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

    @Option(names = "--max-len", paramLabel = "N", defaultValue = "0",
            description = "Longest input in tokens; longer texts are truncated (default: the model's limit, at most 512).")
    int maxLength;

    /** The given --max-len, or {@code fallback} when none was given. */
    int maxLengthOr(int fallback) {
        return maxLength > 0 ? maxLength : fallback;
    }

    Path directory() {
        return BuiltinModel.resolve(model);
    }

    ModelStore.LoadedModel load(NDManager manager) {
        if (maxLength != 0 && maxLength < 2) {
            throw new dev.headguard.HeadGuardException("--max-len must be at least 2");
        }
        return ModelStore.load(directory(), manager, maxLength);
    }
}
