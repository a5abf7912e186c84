package dev.headguard.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A model of any family HeadGuard reads ({@link Family}), in the fields of BERT's {@code config.json};
 * {@link ConfigJson} reads each family's own keys into them (DistilBERT's {@code dim}, GPT-2's
 * {@code n_embd}, ...) and writes them back.
 *
 * @param family     which family's names, positions and head ({@link Family})
 * @param shape      the sizes ({@link Shape})
 * @param blocks     what every block computes with besides its sizes ({@link Blocks})
 * @param padTokenId id of [PAD]
 * @param labels     class names by id; empty for a bare encoder without a classification head
 * @param decoder    a decoder's own settings ({@link Decoder}); null for the encoders
 * @param relative   DeBERTa's disentangled relative attention ({@link Relative}); null for the others
 */
public record ModelConfig(Family family, Shape shape, Blocks blocks, int padTokenId, List<String> labels, Decoder decoder, Relative relative) {

    /**
     * @param vocabSize             rows of the word-embedding table (V)
     * @param hiddenSize            width of every token vector (E)
     * @param numHiddenLayers       transformer blocks (L)
     * @param numAttentionHeads     heads per block (N); head size H = E / N
     * @param intermediateSize      width of the feed-forward layer (I)
     * @param maxPositionEmbeddings rows of the position-embedding table (longest input)
     * @param typeVocabSize         rows of the token-type (segment) table
     * @param embeddingSize         width of the embedding tables; ELECTRA projects it up to E when smaller
     */
    public record Shape(int vocabSize, int hiddenSize, int numHiddenLayers, int numAttentionHeads, int intermediateSize, int maxPositionEmbeddings,
                        int typeVocabSize, int embeddingSize) {}

    /**
     * @param hiddenAct             feed-forward activation: gelu (erf), gelu_new (tanh approximation), relu or silu
     * @param layerNormEps          epsilon of every LayerNorm (BERT: 1e-12, not DJL's 1e-5)
     * @param hiddenDropoutProb     dropout after embeddings, attention output and feed-forward, in training
     * @param attentionProbsDropout dropout on attention probabilities, in training
     * @param initializerRange      standard deviation of freshly initialised weights
     */
    public record Blocks(String hiddenAct, double layerNormEps, double hiddenDropoutProb, double attentionProbsDropout, double initializerRange) {
        /** BERT's dropout (0.1) and initialisation (0.02) with this activation and epsilon. */
        public static Blocks of(String hiddenAct, double layerNormEps) {
            return new Blocks(hiddenAct, layerNormEps, 0.1, 0.1, 0.02);
        }
    }

    /**
     * DeBERTa-v2's disentangled attention: content-to-position and position-to-content scores from a
     * table of relative-position embeddings, positions beyond {@code buckets / 2} in log-spaced buckets.
     *
     * @param span            relative positions each side: the table holds 2·span rows (position_buckets, else max_relative_positions)
     * @param buckets         position_buckets (0: none, positions clamped at ±span)
     * @param maxRelative     max_relative_positions
     * @param c2p             content-to-position scores ("c2p" in pos_att_type)
     * @param p2c             position-to-content scores ("p2c")
     * @param shareKey        positions projected by the content Q/K projections (share_att_key), else by their own
     * @param normEmbeddings  the table goes through the encoder's LayerNorm first (norm_rel_ebd "layer_norm")
     * @param absolute        absolute position embeddings are added too (position_biased_input)
     * @param poolerAct       the context pooler's activation (pooler_hidden_act)
     */
    public record Relative(int span, int buckets, int maxRelative, boolean c2p, boolean p2c, boolean shareKey, boolean normEmbeddings,
                           boolean absolute, String poolerAct) {}

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

    public ModelConfig {
        require(family != null, "no model family");
        int hiddenSize = shape.hiddenSize();
        int numAttentionHeads = shape.numAttentionHeads();
        require(shape.vocabSize() > 0, "vocab_size must be positive");
        require(hiddenSize > 0, "hidden_size must be positive");
        require(shape.numHiddenLayers() > 0, "num_hidden_layers must be positive");
        require(numAttentionHeads > 0 && hiddenSize % numAttentionHeads == 0,
                "hidden_size " + hiddenSize + " is not a multiple of num_attention_heads " + numAttentionHeads);
        require(shape.intermediateSize() > 0, "intermediate_size must be positive");
        require(ACTIVATIONS.contains(blocks.hiddenAct()), "hidden_act '" + blocks.hiddenAct() + "' is not supported (" + ACTIVATIONS + ")");
        require(blocks.layerNormEps() > 0 && blocks.layerNormEps() < 1, "layer_norm_eps must be in (0, 1)");
        require(shape.maxPositionEmbeddings() > 0, "max_position_embeddings must be positive");
        require(shape.typeVocabSize() >= 0, "type_vocab_size must not be negative");
        require((relative != null) == (family == Family.DEBERTA_V2), family.modelType + (relative == null ? " needs" : " has no") + " relative-attention settings");
        require(padTokenId >= 0 && padTokenId < shape.vocabSize(), "pad_token_id " + padTokenId + " is outside the vocabulary");
        require((decoder != null) == family.decoder, family.modelType + (family.decoder ? " needs" : " has no") + " decoder settings");
        require(decoder == null || (decoder.keyValueHeads() > 0 && numAttentionHeads % decoder.keyValueHeads() == 0),
                "num_attention_heads " + numAttentionHeads + " is not a multiple of num_key_value_heads " + (decoder == null ? 0 : decoder.keyValueHeads()));
        require(shape.embeddingSize() > 0, "embedding_size must be positive");
        require(shape.embeddingSize() == hiddenSize || family == Family.ELECTRA, "embedding_size differs from hidden_size (only ELECTRA projects embeddings)");
        labels = List.copyOf(labels);
    }

    /** A BERT config (the family HeadGuard trains and imports by default): embeddings as wide as the blocks. */
    public static ModelConfig bert(int vocabSize, int hiddenSize, int numHiddenLayers, int numAttentionHeads, int intermediateSize, int maxPositionEmbeddings,
                                   int typeVocabSize, Blocks blocks, int padTokenId, List<String> labels) {
        return new ModelConfig(Family.BERT, new Shape(vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, maxPositionEmbeddings,
                typeVocabSize, hiddenSize), blocks, padTokenId, labels, null, null);
    }

    public int vocabSize() {
        return shape.vocabSize();
    }

    public int hiddenSize() {
        return shape.hiddenSize();
    }

    public int numHiddenLayers() {
        return shape.numHiddenLayers();
    }

    public int numAttentionHeads() {
        return shape.numAttentionHeads();
    }

    public int intermediateSize() {
        return shape.intermediateSize();
    }

    public int maxPositionEmbeddings() {
        return shape.maxPositionEmbeddings();
    }

    public int typeVocabSize() {
        return shape.typeVocabSize();
    }

    public int embeddingSize() {
        return shape.embeddingSize();
    }

    public String hiddenAct() {
        return blocks.hiddenAct();
    }

    public double layerNormEps() {
        return blocks.layerNormEps();
    }

    public double hiddenDropoutProb() {
        return blocks.hiddenDropoutProb();
    }

    public double attentionProbsDropout() {
        return blocks.attentionProbsDropout();
    }

    public double initializerRange() {
        return blocks.initializerRange();
    }

    /** Whether inputs carry segment ids into a token-type table (not DistilBERT, the decoders, or a DeBERTa with type_vocab_size 0). */
    public boolean hasTokenTypes() {
        return family.hasTokenTypes() && typeVocabSize() > 0;
    }

    /** Heads of K and V: N, but fewer under grouped-query attention. */
    public int keyValueHeads() {
        return decoder == null ? numAttentionHeads() : decoder.keyValueHeads();
    }

    /** Whether the model predicts the next token (a {@code *ForCausalLM}) rather than a class. */
    public boolean languageModel() {
        return decoder != null && decoder.languageModel();
    }

    /** The longest input in tokens: the position table's rows, less those RoBERTa's positions skip. */
    public int maxTokens() {
        return family.positionsPastPadding() ? maxPositionEmbeddings() - padTokenId - 1 : maxPositionEmbeddings();
    }

    /** Head size H = E / N. */
    public int headSize() {
        return hiddenSize() / numAttentionHeads();
    }

    /** Classes of the classification head; 0 for a bare encoder. */
    public int numLabels() {
        return labels.size();
    }

    public boolean hasClassifier() {
        return !labels.isEmpty();
    }

    /** The same encoder with a classification head over {@code labelNames}. */
    public ModelConfig withLabels(List<String> labelNames) {
        return new ModelConfig(family, shape, blocks, padTokenId, labelNames, decoder, relative);
    }

    /** A tiny model for tests: BERT's structure at toy sizes. */
    public static ModelConfig tiny(int vocabSize, int layers, int heads, int hidden, int labels) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < labels; i++) {
            names.add("LABEL_" + i);
        }
        return bert(vocabSize, hidden, layers, heads, hidden * 2, 64, 2, Blocks.of("gelu", 1e-12), 0, names);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

}
