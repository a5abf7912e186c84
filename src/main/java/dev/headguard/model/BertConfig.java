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
import java.util.Set;

/**
 * The shape of a BERT-family encoder, as HuggingFace's {@code config.json} spells it (DistilBERT's
 * own key names are read into the same fields).
 *
 * @param vocabSize             rows of the word-embedding table (V)
 * @param hiddenSize            width of every token vector (E)
 * @param numHiddenLayers       transformer blocks (L)
 * @param numAttentionHeads     heads per block (N); head size H = E / N
 * @param intermediateSize      width of the feed-forward layer (I)
 * @param hiddenAct             feed-forward activation: gelu (erf), gelu_new (tanh approximation) or relu
 * @param layerNormEps          epsilon of every LayerNorm (BERT: 1e-12, not DJL's 1e-5)
 * @param maxPositionEmbeddings rows of the position-embedding table (longest input)
 * @param typeVocabSize         rows of the token-type (segment) table
 * @param hiddenDropoutProb     dropout after embeddings, attention output and feed-forward, in training
 * @param attentionProbsDropout dropout on attention probabilities, in training
 * @param initializerRange      standard deviation of freshly initialised weights
 * @param padTokenId            id of [PAD]
 * @param labels                class names by id; empty for a bare encoder without a classification head
 * @param family                which encoder family's names, positions and head ({@link Family})
 * @param embeddingSize         width of the embedding tables; ELECTRA projects it up to E when smaller
 * @param decoder               a decoder's own settings ({@link Decoder}); null for the encoders
 */
public record BertConfig(
        int vocabSize,
        int hiddenSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int intermediateSize,
        String hiddenAct,
        double layerNormEps,
        int maxPositionEmbeddings,
        int typeVocabSize,
        double hiddenDropoutProb,
        double attentionProbsDropout,
        double initializerRange,
        int padTokenId,
        List<String> labels,
        Family family,
        int embeddingSize,
        Decoder decoder) {

    /**
     * What a decoder adds to the shape: pre-norm causal blocks.
     *
     * @param keyValueHeads   heads of K and V (grouped-query attention: each serves N / keyValueHeads query heads)
     * @param ropeTheta       rotary position base (Llama family); 0 for GPT-2's learned positions
     * @param qkvBias         whether Q, K and V have biases (GPT-2, Qwen2)
     * @param tiedEmbeddings  whether the language-model head is the word-embedding table
     * @param languageModel   whether the checkpoint is a {@code *ForCausalLM} (next-token logits)
     * @param eosTokenId      the end-of-sequence token generation stops at; −1 when none
     */
    public record Decoder(int keyValueHeads, double ropeTheta, boolean qkvBias, boolean tiedEmbeddings, boolean languageModel, int eosTokenId) {}

    public static final Set<String> ACTIVATIONS = Set.of("gelu", "gelu_new", "relu", "silu");
    private static final ObjectMapper JSON = new ObjectMapper();

    public BertConfig {
        require(vocabSize > 0, "vocab_size must be positive");
        require(hiddenSize > 0, "hidden_size must be positive");
        require(numHiddenLayers > 0, "num_hidden_layers must be positive");
        require(numAttentionHeads > 0 && hiddenSize % numAttentionHeads == 0,
                "hidden_size " + hiddenSize + " is not a multiple of num_attention_heads " + numAttentionHeads);
        require(intermediateSize > 0, "intermediate_size must be positive");
        require(ACTIVATIONS.contains(hiddenAct), "hidden_act '" + hiddenAct + "' is not supported (" + ACTIVATIONS + ")");
        require(layerNormEps > 0 && layerNormEps < 1, "layer_norm_eps must be in (0, 1)");
        require(maxPositionEmbeddings > 0, "max_position_embeddings must be positive");
        require(typeVocabSize > 0, "type_vocab_size must be positive");
        require(padTokenId >= 0 && padTokenId < vocabSize, "pad_token_id " + padTokenId + " is outside the vocabulary");
        require(family != null, "no model family");
        require((decoder != null) == family.decoder, family.modelType + (family.decoder ? " needs" : " has no") + " decoder settings");
        require(decoder == null || (decoder.keyValueHeads() > 0 && numAttentionHeads % decoder.keyValueHeads() == 0),
                "num_attention_heads " + numAttentionHeads + " is not a multiple of num_key_value_heads " + (decoder == null ? 0 : decoder.keyValueHeads()));
        require(embeddingSize > 0, "embedding_size must be positive");
        require(embeddingSize == hiddenSize || family == Family.ELECTRA, "embedding_size differs from hidden_size (only ELECTRA projects embeddings)");
        labels = List.copyOf(labels);
    }

    /** A BERT config (the family HeadGuard trains and imports by default). */
    public BertConfig(int vocabSize, int hiddenSize, int numHiddenLayers, int numAttentionHeads, int intermediateSize, String hiddenAct,
                      double layerNormEps, int maxPositionEmbeddings, int typeVocabSize, double hiddenDropoutProb, double attentionProbsDropout,
                      double initializerRange, int padTokenId, List<String> labels) {
        this(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct, layerNormEps, maxPositionEmbeddings,
                typeVocabSize, hiddenDropoutProb, attentionProbsDropout, initializerRange, padTokenId, labels, Family.BERT, hiddenSize, null);
    }

    /** Heads of K and V: N, but fewer under grouped-query attention. */
    public int keyValueHeads() {
        return decoder == null ? numAttentionHeads : decoder.keyValueHeads();
    }

    /** Whether the model predicts the next token (a {@code *ForCausalLM}) rather than a class. */
    public boolean languageModel() {
        return decoder != null && decoder.languageModel();
    }

    /** The longest input in tokens: the position table's rows, less those RoBERTa's positions skip. */
    public int maxTokens() {
        return family.positionsPastPadding() ? maxPositionEmbeddings - padTokenId - 1 : maxPositionEmbeddings;
    }

    /** Head size H = E / N. */
    public int headSize() {
        return hiddenSize / numAttentionHeads;
    }

    /** Classes of the classification head; 0 for a bare encoder. */
    public int numLabels() {
        return labels.size();
    }

    public boolean hasClassifier() {
        return !labels.isEmpty();
    }

    /** The same encoder with a classification head over {@code labelNames}. */
    public BertConfig withLabels(List<String> labelNames) {
        return new BertConfig(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, hiddenAct,
                layerNormEps, maxPositionEmbeddings, typeVocabSize, hiddenDropoutProb, attentionProbsDropout,
                initializerRange, padTokenId, labelNames, family, embeddingSize, decoder);
    }

    /** A tiny model for tests: BERT's structure at toy sizes. */
    public static BertConfig tiny(int vocabSize, int layers, int heads, int hidden, int labels) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < labels; i++) {
            names.add("LABEL_" + i);
        }
        return new BertConfig(vocabSize, hidden, layers, heads, hidden * 2, "gelu", 1e-12, 64, 2, 0.1, 0.1, 0.02, 0, names);
    }

    /** Reads {@code config.json}; every problem names the file. */
    public static BertConfig read(Path file) {
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
        String posType = root.path("position_embedding_type").asText("absolute");
        if (!posType.equals("absolute")) {
            throw new HeadGuardException(file + ": position_embedding_type '" + posType + "' is not supported (only 'absolute')");
        }
        try {
            List<String> labels = labels(root);
            return new BertConfig(
                    intField(root, "vocab_size", file),
                    intField(root, "hidden_size", file),
                    intField(root, "num_hidden_layers", file),
                    intField(root, "num_attention_heads", file),
                    intField(root, "intermediate_size", file),
                    root.path("hidden_act").asText("gelu"),
                    root.path("layer_norm_eps").asDouble(1e-12),
                    intField(root, "max_position_embeddings", file),
                    root.path("type_vocab_size").asInt(2),
                    root.path("hidden_dropout_prob").asDouble(0.1),
                    root.path("attention_probs_dropout_prob").asDouble(0.1),
                    root.path("initializer_range").asDouble(0.02),
                    root.path("pad_token_id").asInt(family.positionsPastPadding() ? 1 : 0),
                    labels, family,
                    family == Family.ELECTRA && root.has("embedding_size") ? intField(root, "embedding_size", file) : intField(root, "hidden_size", file), null);
        } catch (IllegalArgumentException e) {
            throw new HeadGuardException(file + ": " + e.getMessage());
        }
    }

    /** DistilBERT spells the same shape with its own keys (dim, n_layers, n_heads, hidden_dim, activation). */
    private static BertConfig readDistilBert(JsonNode root, Path file) {
        if (root.path("sinusoidal_pos_embds").asBoolean(false)) {
            throw new HeadGuardException(file + ": sinusoidal_pos_embds is not supported (only learned positions)");
        }
        try {
            return new BertConfig(
                    intField(root, "vocab_size", file),
                    intField(root, "dim", file),
                    intField(root, "n_layers", file),
                    intField(root, "n_heads", file),
                    intField(root, "hidden_dim", file),
                    root.path("activation").asText("gelu"),
                    1e-12, // DistilBERT's LayerNorms are fixed at 1e-12
                    intField(root, "max_position_embeddings", file),
                    1,
                    root.path("dropout").asDouble(0.1),
                    root.path("attention_dropout").asDouble(0.1),
                    root.path("initializer_range").asDouble(0.02),
                    root.path("pad_token_id").asInt(0),
                    labels(root), Family.DISTILBERT, intField(root, "dim", file), null);
        } catch (IllegalArgumentException e) {
            throw new HeadGuardException(file + ": " + e.getMessage());
        }
    }

    /** GPT-2 (n_embd, n_layer, ...) and the Llama family (Llama, Mistral, Qwen2) into the same fields. */
    private static BertConfig readDecoder(JsonNode root, Path file, Family family) {
        boolean lm = false;
        for (JsonNode a : root.path("architectures")) {
            lm |= a.asText().endsWith("ForCausalLM") || a.asText().endsWith("LMHeadModel");
        }
        int eos = root.path("eos_token_id").isInt() ? root.get("eos_token_id").asInt() : -1;
        try {
            if (family == Family.GPT2) {
                int e = intField(root, "n_embd", file);
                int pad = root.path("pad_token_id").isInt() ? root.get("pad_token_id").asInt() : Math.max(eos, 0);
                return new BertConfig(intField(root, "vocab_size", file), e, intField(root, "n_layer", file), intField(root, "n_head", file),
                        root.path("n_inner").isInt() ? root.get("n_inner").asInt() : 4 * e, root.path("activation_function").asText("gelu_new"),
                        root.path("layer_norm_epsilon").asDouble(1e-5), intField(root, "n_positions", file), 1,
                        root.path("resid_pdrop").asDouble(0.1), root.path("attn_pdrop").asDouble(0.1), root.path("initializer_range").asDouble(0.02),
                        pad, labels(root), family, e,
                        new Decoder(intField(root, "n_head", file), 0, true, root.path("tie_word_embeddings").asBoolean(true), lm, eos));
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
            return new BertConfig(intField(root, "vocab_size", file), e, intField(root, "num_hidden_layers", file), heads,
                    intField(root, "intermediate_size", file), "silu", root.path("rms_norm_eps").asDouble(1e-6), positions, 1,
                    0.0, root.path("attention_dropout").asDouble(0.0), root.path("initializer_range").asDouble(0.02), pad, labels(root), family, e,
                    new Decoder(root.path("num_key_value_heads").isInt() ? root.get("num_key_value_heads").asInt() : heads, theta, qkvBias,
                            root.path("tie_word_embeddings").asBoolean(false), lm, eos));
        } catch (IllegalArgumentException ex) {
            throw new HeadGuardException(file + ": " + ex.getMessage());
        }
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
    public ObjectNode toJson() {
        java.util.TreeMap<String, Object> m = new java.util.TreeMap<>();
        m.put("architectures", List.of(family.architecture(hasClassifier(), languageModel())));
        m.put("initializer_range", initializerRange);
        m.put("max_position_embeddings", maxPositionEmbeddings);
        m.put("model_type", family.modelType);
        m.put("pad_token_id", padTokenId);
        m.put("torch_dtype", "float32");
        m.put("vocab_size", vocabSize);
        if (family == Family.GPT2) {
            m.put("activation_function", hiddenAct);
            m.put("attn_pdrop", attentionProbsDropout);
            m.put("embd_pdrop", hiddenDropoutProb);
            m.put("layer_norm_epsilon", layerNormEps);
            m.put("n_embd", hiddenSize);
            m.put("n_head", numAttentionHeads);
            m.put("n_inner", intermediateSize);
            m.put("n_layer", numHiddenLayers);
            m.put("n_positions", maxPositionEmbeddings);
            m.put("resid_pdrop", hiddenDropoutProb);
            m.put("scale_attn_weights", true);
            m.remove("max_position_embeddings");
        } else if (family.decoder) {
            m.put("attention_bias", decoder.qkvBias());
            m.put("attention_dropout", attentionProbsDropout);
            m.put("head_dim", headSize());
            m.put("hidden_act", hiddenAct);
            m.put("hidden_size", hiddenSize);
            m.put("intermediate_size", intermediateSize);
            m.put("mlp_bias", false);
            m.put("num_attention_heads", numAttentionHeads);
            m.put("num_hidden_layers", numHiddenLayers);
            m.put("num_key_value_heads", decoder.keyValueHeads());
            m.put("rms_norm_eps", layerNormEps);
            m.put("rope_parameters", new java.util.TreeMap<>(java.util.Map.of("rope_theta", decoder.ropeTheta(), "rope_type", "default")));
            m.put("rope_theta", decoder.ropeTheta()); // transformers before 5 reads it here
        } else if (family == Family.DISTILBERT) {
            m.put("activation", hiddenAct);
            m.put("attention_dropout", attentionProbsDropout);
            m.put("dim", hiddenSize);
            m.put("dropout", hiddenDropoutProb);
            m.put("hidden_dim", intermediateSize);
            m.put("n_heads", numAttentionHeads);
            m.put("n_layers", numHiddenLayers);
            m.put("seq_classif_dropout", 0.2);
            m.put("sinusoidal_pos_embds", false);
        } else {
            m.put("attention_probs_dropout_prob", attentionProbsDropout);
            m.put("classifier_dropout", null);
            m.put("hidden_act", hiddenAct);
            m.put("hidden_dropout_prob", hiddenDropoutProb);
            m.put("hidden_size", hiddenSize);
            m.put("intermediate_size", intermediateSize);
            m.put("layer_norm_eps", layerNormEps);
            m.put("num_attention_heads", numAttentionHeads);
            m.put("num_hidden_layers", numHiddenLayers);
            m.put("position_embedding_type", "absolute");
            m.put("type_vocab_size", typeVocabSize);
            m.put("use_cache", true);
            if (family == Family.ELECTRA) {
                m.put("embedding_size", embeddingSize);
            }
            if (family.positionsPastPadding()) {
                m.put("bos_token_id", 0);
                m.put("eos_token_id", 2);
            }
        }
        if (family.decoder) {
            m.put("tie_word_embeddings", decoder.tiedEmbeddings());
            m.put("use_cache", true);
            if (decoder.eosTokenId() >= 0) {
                m.put("eos_token_id", decoder.eosTokenId());
            }
        }
        if (hasClassifier()) {
            java.util.LinkedHashMap<String, Object> id2label = new java.util.LinkedHashMap<>();
            java.util.LinkedHashMap<String, Object> label2id = new java.util.LinkedHashMap<>();
            for (int i = 0; i < labels.size(); i++) {
                id2label.put(String.valueOf(i), labels.get(i));
                label2id.put(labels.get(i), i);
            }
            m.put("id2label", id2label);
            m.put("label2id", label2id);
            m.put("problem_type", "single_label_classification");
        }
        return JSON.valueToTree(m);
    }

    public void write(Path file) throws IOException {
        Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(toJson()) + "\n");
    }

    private static int intField(JsonNode root, String key, Path file) {
        JsonNode v = root.get(key);
        if (v == null || !v.canConvertToInt() || !v.isIntegralNumber()) {
            throw new HeadGuardException(file + ": missing or non-integer '" + key + "'");
        }
        return v.asInt();
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

}
