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
 * The shape of a BERT-family encoder, as HuggingFace's {@code config.json} spells it.
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
        List<String> labels) {

    public static final Set<String> ACTIVATIONS = Set.of("gelu", "gelu_new", "relu");
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
        labels = List.copyOf(labels);
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
                initializerRange, padTokenId, labelNames);
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
        if (!type.equals("bert")) {
            throw new HeadGuardException(file + ": model_type '" + type + "' is not supported (HeadGuard reads BERT-family encoders, model_type 'bert')");
        }
        String posType = root.path("position_embedding_type").asText("absolute");
        if (!posType.equals("absolute")) {
            throw new HeadGuardException(file + ": position_embedding_type '" + posType + "' is not supported (only 'absolute')");
        }
        try {
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
                    root.path("pad_token_id").asInt(0),
                    labels);
        } catch (IllegalArgumentException e) {
            throw new HeadGuardException(file + ": " + e.getMessage());
        }
    }

    /** The keys {@code BertForSequenceClassification.save_pretrained} writes (or {@code BertModel}'s, without a head). */
    public ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.putArray("architectures").add(hasClassifier() ? "BertForSequenceClassification" : "BertModel");
        o.put("attention_probs_dropout_prob", attentionProbsDropout);
        o.put("classifier_dropout", (String) null);
        o.put("hidden_act", hiddenAct);
        o.put("hidden_dropout_prob", hiddenDropoutProb);
        o.put("hidden_size", hiddenSize);
        // Keys in the alphabetical order HuggingFace writes them.
        ObjectNode label2id = JSON.createObjectNode();
        if (hasClassifier()) {
            ObjectNode id2label = o.putObject("id2label");
            for (int i = 0; i < labels.size(); i++) {
                id2label.put(String.valueOf(i), labels.get(i));
                label2id.put(labels.get(i), i);
            }
        }
        o.put("initializer_range", initializerRange);
        o.put("intermediate_size", intermediateSize);
        if (hasClassifier()) {
            o.set("label2id", label2id);
        }
        o.put("layer_norm_eps", layerNormEps);
        o.put("max_position_embeddings", maxPositionEmbeddings);
        o.put("model_type", "bert");
        o.put("num_attention_heads", numAttentionHeads);
        o.put("num_hidden_layers", numHiddenLayers);
        o.put("pad_token_id", padTokenId);
        o.put("position_embedding_type", "absolute");
        if (hasClassifier()) {
            o.put("problem_type", "single_label_classification");
        }
        o.put("torch_dtype", "float32");
        o.put("type_vocab_size", typeVocabSize);
        o.put("use_cache", true);
        o.put("vocab_size", vocabSize);
        return o;
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
