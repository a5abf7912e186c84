package dev.headguard.detect.search;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.headguard.model.BertKeys;
import dev.headguard.model.TransformerModel;
import dev.headguard.model.ModelOutput;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.TorchRuntime;
import dev.headguard.text.TokenBatch;

import java.util.function.Function;

/**
 * First-order questions a scan asks of a model, answered with one backward pass each, without
 * changing a weight: the gradient of a loss at one vocabulary row (how would the loss move if a
 * token's embedding moved), and at the per-head scales (how much the prediction leans on each
 * head). Gradients are zeroed and switched off again before returning.
 */
public final class Gradients {
    private Gradients() {}

    /**
     * ∂loss/∂E[id] for the word-embedding row {@code id}, with dropout off.
     *
     * @param loss maps the logits (B, C) to a scalar
     */
    public static float[] embeddingRow(TransformerModel model, TokenBatch batch, long id, Function<NDArray, NDArray> loss, NDManager root) {
        NDArray emb = model.parameters().get(BertKeys.WORD_EMBEDDINGS);
        emb.setRequiresGradient(true);
        try (NDScope scope = new NDScope(); NDManager m = root.newSubManager()) {
            TokenBatch.Arrays in = batch.toArrays(m);
            try (GradientCollector gc = TorchRuntime.engine().newGradientCollector()) {
                ModelOutput out = model.forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), ForwardOptions.INFERENCE);
                gc.backward(loss.apply(out.logits()));
            }
            try (NDArray g = emb.getGradient()) {
                return g.get(id).toFloatArray();
            }
        } finally {
            JniUtils.zeroGrad((PtNDArray) emb);
            emb.setRequiresGradient(false);
        }
    }

    /**
     * (E_v/‖E_v‖)·g for every token v: the first-order change of the loss when the placeholder's
     * embedding moves toward token v's direction. Directions, not raw rows, because the embedding
     * LayerNorm that follows discards most of a row's length, and rare tokens' rows (a trained
     * trigger's included) can be far longer or shorter than the rest.
     */
    public static float[] dotWithVocabulary(TransformerModel model, float[] g, NDManager root) {
        try (NDScope scope = new NDScope(); NDManager m = root.newSubManager()) {
            return dotWithVocabulary(model, m.create(g).reshape(1, -1)).reshape(-1).toFloatArray();
        }
    }

    /** The same for a batch of gradients (B, E), as (B, V) in the gradients' manager. */
    public static NDArray dotWithVocabulary(TransformerModel model, NDArray g) {
        try (NDScope scope = new NDScope()) {
            NDArray e = model.parameters().get(BertKeys.WORD_EMBEDDINGS);
            // The batch goes first so that the result joins its manager, not the model's long-lived one.
            NDArray dots = g.matMul(e.transpose()).div(e.square().sum(new int[] {1}).sqrt().add(1e-12f));   // (B, V)
            NDScope.unregister(dots);
            return dots;
        }
    }

    /**
     * |∂loss/∂s_{l,h}| at s = 1, where s scales head (l, h)'s attention probabilities: the
     * first-order effect of silencing the head. Averaged over the batch through the loss.
     *
     * @return (layers, heads)
     */
    public static float[][] headImportance(TransformerModel model, TokenBatch batch, Function<NDArray, NDArray> loss, NDManager root) {
        return headImportanceOf(model, batch, out -> loss.apply(out.logits()), root);
    }

    /** The same with the loss taken from the whole output (a decoder's next-token loss needs its hidden states). */
    public static float[][] headImportanceOf(TransformerModel model, TokenBatch batch, Function<ModelOutput, NDArray> loss, NDManager root) {
        int layers = model.config().numHiddenLayers();
        int heads = model.config().numAttentionHeads();
        try (NDScope scope = new NDScope(); NDManager m = root.newSubManager()) {
            NDArray scale = m.ones(new ai.djl.ndarray.types.Shape(layers, heads));
            scale.setRequiresGradient(true);
            TokenBatch.Arrays in = batch.toArrays(m);
            try (GradientCollector gc = TorchRuntime.engine().newGradientCollector()) {
                ModelOutput out = model.forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), ForwardOptions.INFERENCE.withHeadScale(scale));
                gc.backward(loss.apply(out));
            }
            float[] g = scale.getGradient().abs().toFloatArray();
            float[][] out = new float[layers][heads];
            for (int l = 0; l < layers; l++) {
                System.arraycopy(g, l * heads, out[l], 0, heads);
            }
            return out;
        }
    }

    /** The current value of word-embedding row {@code id}. */
    public static float[] embeddingRowValue(TransformerModel model, long id) {
        try (NDScope scope = new NDScope()) {
            return model.parameters().get(BertKeys.WORD_EMBEDDINGS).get(id).toFloatArray();
        }
    }

    /** Overwrites word-embedding row {@code id} in memory (never on disk). */
    public static void setEmbeddingRow(TransformerModel model, long id, float[] row, NDManager root) {
        try (NDScope scope = new NDScope(); NDManager m = root.newSubManager()) {
            model.parameters().get(BertKeys.WORD_EMBEDDINGS).set(new ai.djl.ndarray.index.NDIndex(id), m.create(row));
        }
    }

    /** Mean cross-entropy of logits (B, C) toward one class. */
    public static NDArray towardClass(NDArray logits, int c) {
        return logits.logSoftmax(-1).get(":, " + c).neg().mean();
    }
}
