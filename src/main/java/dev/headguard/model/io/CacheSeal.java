package dev.headguard.model.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.AtomicFiles;
import dev.headguard.Sha256;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A seal over an imported built-in model in the cache: each file's size, modification time and SHA-256.
 * Size and time are checked on every use (cheap); only when they differ is the file hashed, so an
 * untouched cache costs nothing and a damaged one is found and imported again.
 */
final class CacheSeal {
    static final String FILE = "headguard-seal.json";
    private static final List<String> SEALED = List.of(ModelStore.CONFIG, ModelStore.WEIGHTS, ModelStore.TOKENIZER);
    private static final ObjectMapper JSON = new ObjectMapper();

    private CacheSeal() {}

    static void seal(Path dir) {
        ObjectNode root = JSON.createObjectNode();
        try {
            for (String name : SEALED) {
                Path f = dir.resolve(name);
                ObjectNode e = root.putObject(name);
                e.put("size", Files.size(f));
                e.put("modified", Files.getLastModifiedTime(f).toMillis());
                e.put("sha256", Sha256.hex(f));
            }
            AtomicFiles.write(dir.resolve(FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
        } catch (IOException e) {
            // no seal: the next use seals it (an unsealed cache is trusted once, as before seals existed)
        }
    }

    /** Whether every sealed file is as imported; a cache without a seal is sealed now and trusted. */
    static boolean intact(Path dir) {
        Path sealFile = dir.resolve(FILE);
        if (!Files.isRegularFile(sealFile)) {
            seal(dir);
            return true;
        }
        try {
            JsonNode root = JSON.readTree(sealFile.toFile());
            for (String name : SEALED) {
                Path f = dir.resolve(name);
                JsonNode e = root.path(name);
                if (!Files.isRegularFile(f) || !e.isObject()) {
                    return false;
                }
                if (Files.size(f) == e.path("size").asLong(-1) && Files.getLastModifiedTime(f).toMillis() == e.path("modified").asLong(-1)) {
                    continue;
                }
                if (!Sha256.hex(f).equals(e.path("sha256").asText())) {
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
