package dev.headguard.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.HeadGuardException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code config.json}, read and written: the one owner of that contract. Every family's keys are
 * read into {@link ModelConfig}'s fields (DistilBERT and GPT-2 spell them their own way) and written
 * back as transformers writes them for the family's class.
 */
public final class ConfigJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ConfigJson() {}

    /** Reads {@code config.json}; every problem names the file. */
    public static ModelConfig read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new HeadGuardException(file + ": file not found");
        } catch (IOException e) {
            throw new HeadGuardException(file + ": not valid JSON (" + HeadGuardException.brief(e.getMessage()) + ")");
        }
        if (root == null || !root.isObject()) {
            throw new HeadGuardException(file + ": not a JSON object");
        }
        String type = root.path("model_type").asText("");
        Family family = Family.of(type);
        if (family == null) {
            throw new HeadGuardException(file + ": model_type '" + type + "' is not supported (HeadGuard reads " + String.join(", ", Family.modelTypes()) + ")");
        }
        if (family == Family.DISTILBERT) {
            return readDistilBert(root, file);
        }
        if (family.decoder) {
            return readDecoder(root, file, family);
        }
        String posType = family == Family.DEBERTA_V2 ? "absolute" : root.path("position_embedding_type").asText("absolute");
        if (!posType.equals("absolute")) {
            throw new HeadGuardException(file + ": position_embedding_type '" + posType + "' is not supported (only 'absolute')");
        }
        try {
            List<String> labels = labels(root);
            ModelConfig.Shape shape = new ModelConfig.Shape(
                    intField(root, "vocab_size", file),
                    intField(root, "hidden_size", file),
                    intField(root, "num_hidden_layers", file),
                    intField(root, "num_attention_heads", file),
                    intField(root, "intermediate_size", file),
                    intField(root, "max_position_embeddings", file),
                    root.path("type_vocab_size").asInt(2),
                    family == Family.ELECTRA && root.has("embedding_size") ? intField(root, "embedding_size", file) : intField(root, "hidden_size", file));
            ModelConfig.Blocks blocks = new ModelConfig.Blocks(
                    root.path("hidden_act").asText("gelu"),
                    root.path("layer_norm_eps").asDouble(1e-12),
                    root.path("hidden_dropout_prob").asDouble(0.1),
                    root.path("attention_probs_dropout_prob").asDouble(0.1),
                    root.path("initializer_range").asDouble(0.02));
            return new ModelConfig(family, shape, blocks, root.path("pad_token_id").asInt(family.positionsPastPadding() ? 1 : 0), labels, null,
                    family == Family.DEBERTA_V2 ? relative(root, file) : null);
        } catch (IllegalArgumentException e) {
            throw new HeadGuardException(file + ": " + e.getMessage());
        }
    }

    /** DistilBERT spells the same shape with its own keys (dim, n_layers, n_heads, hidden_dim, activation). */
    private static ModelConfig readDistilBert(JsonNode root, Path file) {
        if (root.path("sinusoidal_pos_embds").asBoolean(false)) {
            throw new HeadGuardException(file + ": sinusoidal_pos_embds is not supported (only learned positions)");
        }
        try {
            ModelConfig.Shape shape = new ModelConfig.Shape(
                    intField(root, "vocab_size", file),
                    intField(root, "dim", file),
                    intField(root, "n_layers", file),
                    intField(root, "n_heads", file),
                    intField(root, "hidden_dim", file),
                    intField(root, "max_position_embeddings", file),
                    1,
                    intField(root, "dim", file));
            ModelConfig.Blocks blocks = new ModelConfig.Blocks(
                    root.path("activation").asText("gelu"),
                    1e-12, // DistilBERT's LayerNorms are fixed at 1e-12
                    root.path("dropout").asDouble(0.1),
                    root.path("attention_dropout").asDouble(0.1),
                    root.path("initializer_range").asDouble(0.02));
            return new ModelConfig(Family.DISTILBERT, shape, blocks, root.path("pad_token_id").asInt(0), labels(root), null, null);
        } catch (IllegalArgumentException e) {
            throw new HeadGuardException(file + ": " + e.getMessage());
        }
    }

    /** GPT-2 (n_embd, n_layer, ...) and the Llama family (Llama, Mistral, Qwen2) into the same fields. */
    private static ModelConfig readDecoder(JsonNode root, Path file, Family family) {
        boolean lm = false;
        for (JsonNode a : root.path("architectures")) {
            lm |= a.asText().endsWith("ForCausalLM") || a.asText().endsWith("LMHeadModel");
        }
        int eos = root.path("eos_token_id").isInt() ? root.get("eos_token_id").asInt() : -1;
        try {
            if (family == Family.GPT2) {
                int e = intField(root, "n_embd", file);
                int pad = root.path("pad_token_id").isInt() ? root.get("pad_token_id").asInt() : Math.max(eos, 0);
                ModelConfig.Shape shape = new ModelConfig.Shape(intField(root, "vocab_size", file), e, intField(root, "n_layer", file), intField(root, "n_head", file),
                        root.path("n_inner").isInt() ? root.get("n_inner").asInt() : 4 * e, intField(root, "n_positions", file), 1, e);
                ModelConfig.Blocks blocks = new ModelConfig.Blocks(root.path("activation_function").asText("gelu_new"), root.path("layer_norm_epsilon").asDouble(1e-5),
                        root.path("resid_pdrop").asDouble(0.1), root.path("attn_pdrop").asDouble(0.1), root.path("initializer_range").asDouble(0.02));
                return new ModelConfig(family, shape, blocks, pad, labels(root),
                        new ModelConfig.Decoder(intField(root, "n_head", file), 0, true, root.path("tie_word_embeddings").asBoolean(true), lm, eos), null);
            }
            if (root.path("scale_attn_by_inverse_layer_idx").asBoolean(false) || root.path("reorder_and_upcast_attn").asBoolean(false)) {
                throw new HeadGuardException(file + ": scale_attn_by_inverse_layer_idx and reorder_and_upcast_attn are not supported");
            }
            JsonNode rope = root.path("rope_parameters").isObject() ? root.get("rope_parameters") : root.path("rope_scaling");
            String ropeType = rope.isObject() ? rope.path("rope_type").asText(rope.path("type").asText("default")) : "default";
            if (!ropeType.equals("default")) {
                throw new HeadGuardException(file + ": rope type '" + ropeType + "' is not supported (only the default rotary positions)");
            }
            double theta = rope.path("rope_theta").isNumber() ? rope.get("rope_theta").asDouble() : root.path("rope_theta").asDouble(10000.0);
            int e = intField(root, "hidden_size", file);
            int heads = intField(root, "num_attention_heads", file);
            if (root.path("head_dim").isInt() && root.get("head_dim").asInt() * heads != e) {
                throw new HeadGuardException(file + ": head_dim " + root.get("head_dim").asInt() + " times " + heads + " heads is not hidden_size " + e + " (not supported)");
            }
            if (root.path("mlp_bias").asBoolean(false)) {
                throw new HeadGuardException(file + ": mlp_bias is not supported");
            }
            int positions = intField(root, "max_position_embeddings", file);
            if (root.path("use_sliding_window").asBoolean(family == Family.MISTRAL) && root.path("sliding_window").isInt()) {
                positions = Math.min(positions, root.get("sliding_window").asInt()); // within the window, attention is full
            }
            boolean qkvBias = family == Family.QWEN2 || root.path("attention_bias").asBoolean(false);
            String act = root.path("hidden_act").asText("silu");
            if (!act.equals("silu")) {
                throw new HeadGuardException(file + ": hidden_act '" + act + "' is not supported for " + family.modelType + " (silu)");
            }
            int pad = root.path("pad_token_id").isInt() ? root.get("pad_token_id").asInt() : Math.max(eos, 0);
            ModelConfig.Shape shape = new ModelConfig.Shape(intField(root, "vocab_size", file), e, intField(root, "num_hidden_layers", file), heads,
                    intField(root, "intermediate_size", file), positions, 1, e);
            ModelConfig.Blocks blocks = new ModelConfig.Blocks("silu", root.path("rms_norm_eps").asDouble(1e-6), 0.0, root.path("attention_dropout").asDouble(0.0),
                    root.path("initializer_range").asDouble(0.02));
            return new ModelConfig(family, shape, blocks, pad, labels(root),
                    new ModelConfig.Decoder(root.path("num_key_value_heads").isInt() ? root.get("num_key_value_heads").asInt() : heads, theta, qkvBias,
                            root.path("tie_word_embeddings").asBoolean(false), lm, eos), null);
        } catch (IllegalArgumentException ex) {
            throw new HeadGuardException(file + ": " + ex.getMessage());
        }
    }

    /** DeBERTa-v2's relative-attention keys; what HeadGuard does not implement (a convolution layer, a narrower embedding) is refused. */
    private static ModelConfig.Relative relative(JsonNode root, Path file) {
        if (root.path("conv_kernel_size").asInt(0) > 0) {
            throw new HeadGuardException(file + ": conv_kernel_size " + root.get("conv_kernel_size").asInt() + " is not supported (DeBERTa's convolution layer)");
        }
        if (root.has("embedding_size") && !root.get("embedding_size").isNull() && root.get("embedding_size").asInt() != root.path("hidden_size").asInt()) {
            throw new HeadGuardException(file + ": embedding_size differs from hidden_size (DeBERTa's embedding projection is not supported)");
        }
        if (!root.path("relative_attention").asBoolean(false)) {
            throw new HeadGuardException(file + ": relative_attention false is not supported (DeBERTa-v2 and v3 use it)");
        }
        java.util.Set<String> types = new java.util.HashSet<>();
        JsonNode pat = root.path("pos_att_type");
        if (pat.isArray()) {
            pat.forEach(t -> types.add(t.asText()));
        } else if (pat.isTextual()) {
            for (String t : pat.asText().split("\\|")) {
                types.add(t.strip());
            }
        }
        int buckets = root.path("position_buckets").asInt(-1);
        int maxRelative = root.path("max_relative_positions").asInt(-1);
        if (maxRelative < 1) {
            maxRelative = intField(root, "max_position_embeddings", file);
        }
        return new ModelConfig.Relative(buckets > 0 ? buckets : maxRelative, Math.max(buckets, 0), maxRelative, types.contains("c2p"), types.contains("p2c"),
                root.path("share_att_key").asBoolean(false), root.path("norm_rel_ebd").asText("none").toLowerCase(java.util.Locale.ROOT).contains("layer_norm"),
                root.path("position_biased_input").asBoolean(true), root.path("pooler_hidden_act").asText("gelu"));
    }

    /** Class names of a {@code *ForSequenceClassification} config; empty for a bare encoder. */
    private static List<String> labels(JsonNode root) {
        List<String> labels = new ArrayList<>();
        JsonNode id2label = root.get("id2label");
        boolean sequenceClassifier = false;
        for (JsonNode a : root.path("architectures")) {
            sequenceClassifier |= a.asText().endsWith("ForSequenceClassification");
        }
        if (sequenceClassifier) {
            int n = root.has("num_labels") ? root.get("num_labels").asInt() : id2label == null ? 2 : id2label.size();
            for (int i = 0; i < n; i++) {
                JsonNode name = id2label == null ? null : id2label.get(String.valueOf(i));
                labels.add(name == null ? "LABEL_" + i : name.asText());
            }
        }
        return labels;
    }

    /**
     * The keys {@code *ForSequenceClassification.save_pretrained} writes for the family (or its bare
     * {@code *Model}'s, without a head), in the alphabetical order transformers writes them.
     */
    public static ObjectNode toJson(ModelConfig config) {
        java.util.TreeMap<String, Object> m = new java.util.TreeMap<>();
        m.put("architectures", List.of(config.family().architecture(config.hasClassifier(), config.languageModel())));
        m.put("initializer_range", config.initializerRange());
        m.put("max_position_embeddings", config.maxPositionEmbeddings());
        m.put("model_type", config.family().modelType);
        m.put("pad_token_id", config.padTokenId());
        m.put("torch_dtype", "float32");
        m.put("vocab_size", config.vocabSize());
        if (config.family() == Family.GPT2) {
            m.put("activation_function", config.hiddenAct());
            m.put("attn_pdrop", config.attentionProbsDropout());
            m.put("embd_pdrop", config.hiddenDropoutProb());
            m.put("layer_norm_epsilon", config.layerNormEps());
            m.put("n_embd", config.hiddenSize());
            m.put("n_head", config.numAttentionHeads());
            m.put("n_inner", config.intermediateSize());
            m.put("n_layer", config.numHiddenLayers());
            m.put("n_positions", config.maxPositionEmbeddings());
            m.put("resid_pdrop", config.hiddenDropoutProb());
            m.put("scale_attn_weights", true);
            m.remove("max_position_embeddings");
        } else if (config.family().decoder) {
            m.put("attention_bias", config.decoder().qkvBias());
            m.put("attention_dropout", config.attentionProbsDropout());
            m.put("head_dim", config.headSize());
            m.put("hidden_act", config.hiddenAct());
            m.put("hidden_size", config.hiddenSize());
            m.put("intermediate_size", config.intermediateSize());
            m.put("mlp_bias", false);
            m.put("num_attention_heads", config.numAttentionHeads());
            m.put("num_hidden_layers", config.numHiddenLayers());
            m.put("num_key_value_heads", config.decoder().keyValueHeads());
            m.put("rms_norm_eps", config.layerNormEps());
            m.put("rope_parameters", new java.util.TreeMap<>(java.util.Map.of("rope_theta", config.decoder().ropeTheta(), "rope_type", "default")));
            m.put("rope_theta", config.decoder().ropeTheta()); // transformers before 5 reads it here
        } else if (config.family() == Family.DISTILBERT) {
            m.put("activation", config.hiddenAct());
            m.put("attention_dropout", config.attentionProbsDropout());
            m.put("dim", config.hiddenSize());
            m.put("dropout", config.hiddenDropoutProb());
            m.put("hidden_dim", config.intermediateSize());
            m.put("n_heads", config.numAttentionHeads());
            m.put("n_layers", config.numHiddenLayers());
            m.put("seq_classif_dropout", 0.2);
            m.put("sinusoidal_pos_embds", false);
        } else {
            m.put("attention_probs_dropout_prob", config.attentionProbsDropout());
            m.put("classifier_dropout", null);
            m.put("hidden_act", config.hiddenAct());
            m.put("hidden_dropout_prob", config.hiddenDropoutProb());
            m.put("hidden_size", config.hiddenSize());
            m.put("intermediate_size", config.intermediateSize());
            m.put("layer_norm_eps", config.layerNormEps());
            m.put("num_attention_heads", config.numAttentionHeads());
            m.put("num_hidden_layers", config.numHiddenLayers());
            m.put("position_embedding_type", "absolute");
            m.put("type_vocab_size", config.typeVocabSize());
            m.put("use_cache", true);
            if (config.family() == Family.ELECTRA) {
                m.put("embedding_size", config.embeddingSize());
            }
            ModelConfig.Relative r = config.relative();
            if (r != null) {
                m.remove("position_embedding_type");
                m.put("conv_kernel_size", 0);
                m.put("max_relative_positions", r.maxRelative());
                m.put("norm_rel_ebd", r.normEmbeddings() ? "layer_norm" : "none");
                m.put("pooler_dropout", 0);
                m.put("pooler_hidden_act", r.poolerAct());
                m.put("pooler_hidden_size", config.hiddenSize());
                List<String> types = new ArrayList<>();
                if (r.p2c()) {
                    types.add("p2c");
                }
                if (r.c2p()) {
                    types.add("c2p");
                }
                m.put("pos_att_type", types);
                m.put("position_biased_input", r.absolute());
                m.put("position_buckets", r.buckets() > 0 ? r.buckets() : -1);
                m.put("relative_attention", true);
                m.put("share_att_key", r.shareKey());
            }
            if (config.family().positionsPastPadding()) {
                m.put("bos_token_id", 0);
                m.put("eos_token_id", 2);
            }
        }
        if (config.family().decoder) {
            m.put("tie_word_embeddings", config.decoder().tiedEmbeddings());
            m.put("use_cache", true);
            if (config.decoder().eosTokenId() >= 0) {
                m.put("eos_token_id", config.decoder().eosTokenId());
            }
        }
        if (config.hasClassifier()) {
            java.util.LinkedHashMap<String, Object> id2label = new java.util.LinkedHashMap<>();
            java.util.LinkedHashMap<String, Object> label2id = new java.util.LinkedHashMap<>();
            for (int i = 0; i < config.labels().size(); i++) {
                id2label.put(String.valueOf(i), config.labels().get(i));
                label2id.put(config.labels().get(i), i);
            }
            m.put("id2label", id2label);
            m.put("label2id", label2id);
            m.put("problem_type", "single_label_classification");
        }
        return JSON.valueToTree(m);
    }

    public static void write(ModelConfig config, Path file) throws IOException {
        Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(toJson(config)) + "\n");
    }

    private static int intField(JsonNode root, String key, Path file) {
        JsonNode v = root.get(key);
        if (v == null || !v.canConvertToInt() || !v.isIntegralNumber()) {
            throw new HeadGuardException(file + ": missing or non-integer '" + key + "'");
        }
        return v.asInt();
    }

}
