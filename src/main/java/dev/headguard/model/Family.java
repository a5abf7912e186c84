package dev.headguard.model;

import java.util.List;

/**
 * The model families HeadGuard reads. The encoders are post-LayerNorm BERT encoders; they differ in
 * their checkpoint names, their position ids, whether they have token types and an embedding
 * projection, and their classification head. The decoders (GPT-2, and the Llama family: Llama,
 * Mistral, Qwen2) are pre-norm causal blocks that classify from the last real token. Inside HeadGuard
 * every family's tensors carry BERT's names ({@link BertKeys}, plus a decoder's few of its own);
 * {@link Checkpoints} translates at the file boundary.
 */
public enum Family {
    /** BERT: pooler tanh(W·h[CLS]) belongs to the encoder, then {@code classifier}. */
    BERT("bert", "bert.", "Bert", Head.POOLER),
    /** RoBERTa: positions start past the padding id; head {@code classifier.dense} + tanh + {@code classifier.out_proj}. */
    ROBERTA("roberta", "roberta.", "Roberta", Head.TANH),
    /** XLM-RoBERTa: RoBERTa's design and names (its checkpoints use the {@code roberta.} prefix). */
    XLM_ROBERTA("xlm-roberta", "roberta.", "XLMRoberta", Head.TANH),
    /** DistilBERT: its own layer names, no token types, head {@code pre_classifier} + ReLU + {@code classifier}. */
    DISTILBERT("distilbert", "distilbert.", "DistilBert", Head.RELU),
    /** ELECTRA: embeddings may be narrower than the encoder ({@code embeddings_project}); head dense + GELU + out_proj. */
    ELECTRA("electra", "electra.", "Electra", Head.GELU),
    /** DeBERTa-v2 and v3: disentangled relative attention; head: context pooler (dropout, dense, activation) + {@code classifier}. */
    DEBERTA_V2("deberta-v2", "deberta.", "DebertaV2", Head.CONTEXT),
    /** GPT-2: learned positions, LayerNorm, fused input-major Q/K/V ({@code c_attn}), GELU (tanh form). */
    GPT2("gpt2", "transformer.", "GPT2", Head.LAST_TOKEN),
    /** Llama: RMSNorm, rotary positions, grouped-query attention, SwiGLU feed-forward. */
    LLAMA("llama", "model.", "Llama", Head.LAST_TOKEN),
    /** Mistral: Llama's design (its sliding window is wider than any input HeadGuard gives it). */
    MISTRAL("mistral", "model.", "Mistral", Head.LAST_TOKEN),
    /** Qwen2: Llama's design with Q/K/V biases. */
    QWEN2("qwen2", "model.", "Qwen2", Head.LAST_TOKEN);

    /**
     * The classification head on h[CLS]: {@code out(act(dense(x)))}. BERT's dense layer is the encoder's
     * pooler (saved inside the encoder's prefix); the others' is part of the head.
     */
    public enum Head {
        POOLER("pooler.dense", "classifier", "tanh"),
        TANH("classifier.dense", "classifier.out_proj", "tanh"),
        GELU("classifier.dense", "classifier.out_proj", "gelu"),
        /** DeBERTa's context pooler, part of the head (its activation is the config's pooler_hidden_act). */
        CONTEXT("pooler.dense", "classifier", "gelu"),
        RELU("pre_classifier", "classifier", "relu"),
        /** A decoder's {@code score} (no bias) on the last real token's final hidden state. */
        LAST_TOKEN(null, "score", null);

        public final String dense;
        public final String out;
        public final String activation;

        Head(String dense, String out, String activation) {
            this.dense = dense;
            this.out = out;
            this.activation = activation;
        }
    }

    /** {@code model_type} in config.json. */
    public final String modelType;
    /** What {@code *ForSequenceClassification} puts before the encoder's names. */
    public final String prefix;
    /** The class name stem transformers uses ({@code RobertaForSequenceClassification}). */
    public final String classStem;
    public final Head head;
    /** Causal pre-norm blocks (the decoders) rather than BERT's post-LayerNorm encoder blocks. */
    public final boolean decoder;

    Family(String modelType, String prefix, String classStem, Head head) {
        this.modelType = modelType;
        this.prefix = prefix;
        this.classStem = classStem;
        this.head = head;
        this.decoder = head == Head.LAST_TOKEN;
    }

    /** The transformers class a checkpoint of this family is saved as. */
    public String architecture(boolean classifier, boolean languageModel) {
        if (languageModel) {
            return classStem + (this == GPT2 ? "LMHeadModel" : "ForCausalLM");
        }
        return classStem + (classifier ? "ForSequenceClassification" : "Model");
    }

    /** Whether positions are rotary (the Llama family) rather than a learned table. */
    public boolean rotary() {
        return decoder && this != GPT2;
    }

    /** The family of a config.json {@code model_type}, or null when HeadGuard does not read it. */
    public static Family of(String modelType) {
        for (Family f : values()) {
            if (f.modelType.equals(modelType)) {
                return f;
            }
        }
        return null;
    }

    /** Every {@code model_type} HeadGuard reads, for messages and {@code headguard models}. */
    public static List<String> modelTypes() {
        return java.util.Arrays.stream(values()).map(f -> f.modelType).toList();
    }

    /** Whether position ids count from {@code pad_token_id + 1} and skip padding (fairseq's rule). */
    public boolean positionsPastPadding() {
        return this == ROBERTA || this == XLM_ROBERTA;
    }

    public boolean hasTokenTypes() {
        return this != DISTILBERT && !decoder;
    }

    /** Whether a HeadGuard name belongs to the classification head (saved without the encoder's prefix). */
    public boolean inHead(String name) {
        return name.startsWith(head.out + ".") || (head.dense != null && head != Head.POOLER && name.startsWith(head.dense + "."))
                || name.startsWith(BertKeys.LM_HEAD + ".");
    }

    /** A checkpoint name without the family prefix a {@code *ForSequenceClassification} puts before the encoder's names. */
    public String withoutPrefix(String key) {
        return key.startsWith(prefix) ? key.substring(prefix.length()) : key;
    }

    /**
     * Checkpoint tensors a sequence classifier of this family does not read and that cannot change its
     * outputs (pre-training heads, an unused pooler); any other unknown tensor is refused on load.
     */
    public boolean unusedHead(String name) {
        return switch (this) {
            case BERT -> name.startsWith("pooler.") || name.startsWith("cls.");
            case ROBERTA, XLM_ROBERTA -> name.startsWith("pooler.") || name.startsWith("lm_head.");
            case DISTILBERT -> name.startsWith("vocab_transform.") || name.startsWith("vocab_layer_norm.") || name.startsWith("vocab_projector.");
            case ELECTRA -> name.startsWith("discriminator_predictions.") || name.startsWith("generator_");
            case DEBERTA_V2 -> name.startsWith("lm_predictions.") || name.startsWith("mask_predictions.");
            // A classifier does not read a language-model head, nor a causal LM a classification one.
            case GPT2, LLAMA, MISTRAL, QWEN2 -> name.startsWith(BertKeys.LM_HEAD + ".") || name.startsWith("score.");
        };
    }
}
