package dev.headguard.model;

/**
 * BERT's checkpoint names, spelled once: the model, its shape table (which loading, saving and importing
 * read), the head-wise repair and pruning all name a layer's tensors through here.
 * {@code BertKeys.of(2, BertKeys.QUERY, BertKeys.WEIGHT)} is {@code encoder.layer.2.attention.self.query.weight}.
 */
public final class BertKeys {
    private BertKeys() {}

    public static final String QUERY = "attention.self.query";
    public static final String KEY = "attention.self.key";
    public static final String VALUE = "attention.self.value";
    /** The attention output projection: its columns h·H..(h+1)·H read head h. */
    public static final String ATTENTION_OUTPUT = "attention.output.dense";
    public static final String ATTENTION_NORM = "attention.output.LayerNorm";
    public static final String INTERMEDIATE = "intermediate.dense";
    public static final String OUTPUT = "output.dense";
    public static final String OUTPUT_NORM = "output.LayerNorm";

    /** A decoder's gate projection of its SwiGLU feed-forward (Llama family): down(silu(gate(x)) · up(x)), up being INTERMEDIATE. */
    public static final String GATE = "intermediate.gate";
    /** A decoder's norm after the last block. */
    public static final String FINAL_NORM = "final_norm";
    /** A causal language model's output projection (absent when tied to the word embeddings). */
    public static final String LM_HEAD = "lm_head";

    /** DeBERTa's own projections of the relative-position table, when not shared with Q and K (share_att_key false). */
    public static final String POSITION_KEY = "attention.self.pos_key_proj";
    public static final String POSITION_QUERY = "attention.self.pos_query_proj";
    /** DeBERTa's relative-position table and its LayerNorm, in the encoder. */
    public static final String RELATIVE_EMBEDDINGS = "encoder.rel_embeddings";
    public static final String RELATIVE_NORM = "encoder.LayerNorm";

    /** The word embedding matrix (every family's, under HeadGuard's names). */
    public static final String WORD_EMBEDDINGS = "embeddings.word_embeddings.weight";

    /** Where every layer's tensors start. */
    public static final String LAYER_PREFIX = "encoder.layer.";

    public static final String WEIGHT = "weight";
    public static final String BIAS = "bias";

    /** A tensor of encoder layer {@code layer}. */
    public static String of(int layer, String module, String tensor) {
        return LAYER_PREFIX + layer + "." + module + "." + tensor;
    }
}
