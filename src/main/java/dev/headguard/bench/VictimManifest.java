package dev.headguard.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.AtomicFiles;
import dev.headguard.HeadGuardException;
import dev.headguard.attack.PoisonedData;
import dev.headguard.model.io.ModelStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** What a model directory's headguard.json says about how it was built: read back to reuse a victim, and added to after it is evaluated. */
public final class VictimManifest {
    private VictimManifest() {}

    /**
     * The "attack" record of a model directory's headguard.json (what was done to it, as {@link Victims#build}
     * wrote it), or null for a model nobody attacked or a directory without one.
     */
    public static com.fasterxml.jackson.databind.JsonNode attackRecord(Path dir) throws IOException {
        com.fasterxml.jackson.databind.JsonNode a = provenanceEntry(dir, "attack");
        return a == null || a.isNull() ? null : a;
    }

    /** One key of a model directory's headguard.json; null when the file or the key is absent. */
    private static com.fasterxml.jackson.databind.JsonNode provenanceEntry(Path dir, String key) throws IOException {
        Path p = dir.resolve(ModelStore.PROVENANCE);
        return Files.exists(p) ? new ObjectMapper().readTree(p.toFile()).get(key) : null;
    }

    /**
     * The HeadGuard commit that wrote a model directory (headguard.json's "headguard_commit"), or
     * "unrecorded" for one written before HeadGuard recorded it (or by another tool).
     */
    public static String builtBy(Path dir) {
        try {
            com.fasterxml.jackson.databind.JsonNode c = provenanceEntry(dir, "headguard_commit");
            return c == null || !c.isTextual() ? "unrecorded" : c.asText();
        } catch (IOException e) {
            throw new HeadGuardException(dir.resolve(ModelStore.PROVENANCE) + ": cannot read (" + e.getMessage() + ")");
        }
    }

    /** Adds a key to a model directory's headguard.json (written to a temporary file, then moved over it). */
    static void addToProvenance(Path dir, String key, Object value) {
        ObjectMapper om = new ObjectMapper();
        Path file = dir.resolve(ModelStore.PROVENANCE);
        try {
            ObjectNode o = Files.exists(file) ? (ObjectNode) om.readTree(file.toFile()) : om.createObjectNode();
            o.set(key, om.valueToTree(value));
            AtomicFiles.write(file, om.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n");
        } catch (IOException e) {
            throw new HeadGuardException(file + ": cannot update (" + e.getMessage() + ")");
        }
    }

    /** The attack record a victim's {@code headguard.json} carries under "attack" (and a poisoned data folder's manifest). */
    static Map<String, Object> of(Victims.Request r, PoisonedData p) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("attack", r.attack());
        m.put("trigger", p.spec().trigger());
        m.put("poison_rate", p.spec().rate());
        m.put("effective_rate", p.effectiveRate());
        m.put("poisoned_rows", p.poisonedCount());
        m.put("target", r.target());
        m.put("mode", p.spec().mode().name().toLowerCase(java.util.Locale.ROOT));
        m.put("keep_originals", p.spec().keepOriginals());
        if (p.negativeRows() > 0) {
            m.put("negative_rows", p.negativeRows());
            m.put("negative_rate", Victims.SOS_NEGATIVE_RATE);
        }
        m.put("seed", r.train().seed());
        m.put("dataset", r.data().name());
        m.put("data_dir", r.data().dataDir().toAbsolutePath().toString());
        m.put("train_rows", p.train().size());
        m.put("train_limit", r.trainLimit());
        m.put("base_model", r.baseModel().toAbsolutePath().toString());
        if (!Victims.trainsEmbeddingsOnly(r.attack())) {
            // as `attack --keep-best` names them; LWS always keeps by its policy's dev ASR too (LwsTraining)
            m.put("keep_best", r.keepBestByAsr() || r.attack().equals("lws") ? "asr" : "clean");
        }
        return m;
    }
}
