package dev.headguard.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.HeadGuardException;
import dev.headguard.model.TransformerModel;
import dev.headguard.model.HostTensor;
import dev.headguard.model.io.ModelStore;
import dev.headguard.model.io.SafeTensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A resumable snapshot of a training run, kept beside the output as {@code DIR.checkpoint}:
 * weights, optimizer moments, the run's position, and a fingerprint of its settings and data so
 * that a resume with different ones is refused rather than silently mixed.
 */
public final class Checkpoint {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Checkpoint() {}

    public static Path dirFor(Path out) {
        return out.toAbsolutePath().normalize().resolveSibling(out.getFileName() + ".checkpoint");
    }

    public static void save(Path dir, TransformerModel model, AdamW optimizer, Trainer.TrainState state, String fingerprint) {
        ModelStore.writeDirectory(dir, tmp -> {
            dev.headguard.model.ConfigJson.write(model.config(), tmp.resolve(ModelStore.CONFIG)); // marks it as a model-like directory
            SafeTensors.write(tmp.resolve("weights.safetensors"), model.toHostTensors(), java.util.Map.of());
            SafeTensors.write(tmp.resolve("optimizer.safetensors"), optimizer.stateTensors(), java.util.Map.of());
            ObjectNode s = JSON.createObjectNode();
            s.put("fingerprint", fingerprint);
            s.put("epoch", state.epoch());
            s.put("step_in_epoch", state.stepInEpoch());
            s.put("step", state.step());
            s.put("optimizer_step", optimizer.step());
            s.put("best_dev_accuracy", state.bestDevAccuracy());
            s.put("best_epoch", state.bestEpoch());
            ArrayNode l = s.putArray("losses");
            state.losses().forEach(l::add);
            Files.writeString(tmp.resolve("state.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(s));
        });
    }

    /** Restores weights and optimizer from {@code dir} and returns the run's position. */
    public static Trainer.TrainState restore(Path dir, TransformerModel model, AdamW optimizer, String fingerprint) {
        Path stateFile = dir.resolve("state.json");
        if (!Files.isRegularFile(stateFile)) {
            throw new HeadGuardException(dir + ": no checkpoint to resume from");
        }
        try {
            JsonNode s = JSON.readTree(stateFile.toFile());
            if (!s.path("fingerprint").asText().equals(fingerprint)) {
                throw new HeadGuardException(dir + ": the checkpoint was made with other settings, data or base model; start afresh without --resume");
            }
            model.loadWeights(SafeTensors.read(dir.resolve("weights.safetensors")).tensors());
            java.util.Map<String, HostTensor> opt = SafeTensors.read(dir.resolve("optimizer.safetensors")).tensors();
            optimizer.restore(opt, s.path("optimizer_step").asLong());
            List<Double> losses = new ArrayList<>();
            s.path("losses").forEach(x -> losses.add(x.asDouble()));
            return new Trainer.TrainState(s.path("epoch").asInt(), s.path("step_in_epoch").asInt(), s.path("step").asLong(),
                    s.path("best_dev_accuracy").asDouble(), s.path("best_epoch").asInt(), losses);
        } catch (IOException e) {
            throw new HeadGuardException(stateFile + ": unreadable checkpoint (" + e.getMessage() + ")");
        } catch (IllegalArgumentException e) {
            throw new HeadGuardException(dir + ": checkpoint does not fit the model (" + e.getMessage() + ")");
        }
    }
}
