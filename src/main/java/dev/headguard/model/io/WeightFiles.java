package dev.headguard.model.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headguard.HeadGuardException;
import dev.headguard.model.ModelConfig;
import dev.headguard.model.DType;
import dev.headguard.model.HostTensor;
import dev.headguard.model.ParameterTable;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model directory's weights: one {@code model.safetensors}, a sharded set under its index, or
 * {@code pytorch_model.bin} through the restricted reader; translated to HeadGuard's names and checked
 * against the config (missing, mis-shaped, unexpected and non-finite weights are refused by name).
 */
public final class WeightFiles {
    private static final List<String> PICKLE_SUFFIXES = List.of(".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle");

    private WeightFiles() {}

    /** A sharded safetensors checkpoint's index: which file holds each weight. */
    public static final String WEIGHTS_INDEX = "model.safetensors.index.json";
    /** PyTorch's pickled checkpoint, read by {@link TorchCheckpoint} without executing it. */
    public static final String TORCH_WEIGHTS = "pytorch_model.bin";

    /** The weight file (or index) a directory's weights are read from, in the order transformers prefers them. */
    public static Path file(Path dir) {
        for (String name : List.of(ModelStore.WEIGHTS, WEIGHTS_INDEX, TORCH_WEIGHTS)) {
            if (Files.exists(dir.resolve(name))) {
                return dir.resolve(name);
            }
        }
        refusePickles(dir);
        return dir.resolve(ModelStore.WEIGHTS);
    }

    /** Every tensor of a checkpoint by its own names: one safetensors file, a sharded set, or a PyTorch zip. */
    static Map<String, HostTensor> checkpointTensors(Path file) {
        if (!Files.exists(file)) {
            throw new HeadGuardException(file + ": file not found");
        }
        String name = file.getFileName().toString();
        if (name.equals(TORCH_WEIGHTS)) {
            return TorchCheckpoint.read(file);
        }
        if (!name.equals(WEIGHTS_INDEX)) {
            return SafeTensors.read(file).tensors();
        }
        Map<String, String> where = new LinkedHashMap<>();
        try {
            com.fasterxml.jackson.databind.JsonNode map = new ObjectMapper().readTree(file.toFile()).path("weight_map");
            if (!map.isObject() || map.isEmpty()) {
                throw new HeadGuardException(file + ": no weight_map object");
            }
            map.fields().forEachRemaining(e -> where.put(e.getKey(), e.getValue().asText()));
        } catch (IOException e) {
            throw new HeadGuardException(file + ": not valid JSON (" + HeadGuardException.brief(e.getMessage()) + ")");
        }
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (String shard : new java.util.LinkedHashSet<>(where.values())) {
            if (!shard.matches("[A-Za-z0-9._-]+\\.safetensors") || shard.startsWith(".")) {
                throw new HeadGuardException(file + ": shard '" + HeadGuardException.brief(shard) + "' is not a safetensors file name in this folder");
            }
            Map<String, HostTensor> part = SafeTensors.read(file.resolveSibling(shard)).tensors();
            for (Map.Entry<String, HostTensor> e : part.entrySet()) {
                if (!shard.equals(where.get(e.getKey()))) {
                    throw new HeadGuardException(file.resolveSibling(shard) + ": weight '" + e.getKey() + "' is not mapped to this shard by the index");
                }
                out.put(e.getKey(), e.getValue());
            }
        }
        for (Map.Entry<String, String> e : where.entrySet()) {
            if (!out.containsKey(e.getKey())) {
                throw new HeadGuardException(file.resolveSibling(e.getValue()) + ": weight '" + e.getKey() + "' named by the index is missing");
            }
        }
        return out;
    }

    /** The weights of a directory by HeadGuard's names (family names translated); buffers HeadGuard does not use are dropped. */
    public static Map<String, HostTensor> read(Path dir, ModelConfig config) {
        Path file = file(dir);
        Map<String, HostTensor> raw = checkpointTensors(file);
        Map<String, HostTensor> out = dev.headguard.model.Checkpoints.read(config, raw);
        for (Map.Entry<String, HostTensor> e : out.entrySet()) {
            DType d = e.getValue().dtype();
            if (d != DType.F32 && d != DType.F16 && d != DType.BF16 && d != DType.F64) {
                throw new HeadGuardException(file + ": weight '" + e.getKey() + "' has dtype " + d + ", not a floating-point type");
            }
        }
        Map<String, long[]> shapes = dev.headguard.model.ParameterTable.shapes(config, config.hasClassifier());
        String problem = dev.headguard.model.ParameterTable.problem(shapes, out);
        if (problem != null) {
            throw new HeadGuardException(file + ": " + problem + " (from config.json)");
        }
        // A security tool refuses what it would silently ignore: a tensor no part of the model reads (an extra
        // layer under a smaller num_hidden_layers, a renamed head) means the file is not the model the config says.
        List<String> unexpected = out.keySet().stream().filter(k -> !shapes.containsKey(k) && !config.family().unusedHead(k)).sorted().toList();
        if (!unexpected.isEmpty()) {
            throw new HeadGuardException(file + ": " + unexpected.size() + " weight" + (unexpected.size() == 1 ? "" : "s")
                    + " the config.json model does not have: " + String.join(", ", unexpected.subList(0, Math.min(3, unexpected.size())))
                    + (unexpected.size() > 3 ? ", ..." : "") + " (check num_hidden_layers and the architecture)");
        }
        for (Map.Entry<String, HostTensor> e : out.entrySet()) {
            long at = shapes.containsKey(e.getKey()) ? e.getValue().firstNonFinite() : -1;
            if (at >= 0) {
                throw new HeadGuardException(file + ": weight '" + e.getKey() + "' holds a non-finite value (NaN or infinity) at element " + at);
            }
        }
        return out;
    }

    /**
     * Pickles other than {@code pytorch_model.bin} are refused outright: HeadGuard reads that one with its
     * restricted reader ({@link TorchCheckpoint}), and a stray {@code .pt} or {@code .ckpt} is not a
     * transformers checkpoint.
     */
    static void refusePickles(Path dir) {
        if (Files.exists(dir.resolve(ModelStore.WEIGHTS)) || Files.exists(dir.resolve(WEIGHTS_INDEX)) || Files.exists(dir.resolve(TORCH_WEIGHTS))) {
            return;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (PICKLE_SUFFIXES.stream().anyMatch(name::endsWith)) {
                    throw new HeadGuardException(p + ": is a Python pickle but not " + TORCH_WEIGHTS + ", the one pickle HeadGuard reads (without"
                            + " executing it); rename a transformers state dict to " + TORCH_WEIGHTS + ", or save it as " + ModelStore.WEIGHTS);
                }
            }
        } catch (IOException e) {
            throw new HeadGuardException(dir + ": cannot list (" + e.getMessage() + ")");
        }
    }
}
