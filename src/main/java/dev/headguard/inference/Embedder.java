package dev.headguard.inference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.headguard.model.TransformerModel;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.io.ModelStore;

import java.util.List;

/** Sentence embeddings: the mean of the last hidden state over real tokens, as sentence-transformers computes them. */
public final class Embedder {
    private final BatchRunner runner;

    public Embedder(ModelStore.LoadedModel model, NDManager root, int batchSize) {
        this.runner = new BatchRunner(model, root, batchSize);
    }

    /** One embedding per text, in input order; L2-normalised when {@code normalize}. */
    public float[][] embed(List<String> texts, boolean normalize) {
        float[][] out = new float[texts.size()][];
        runner.run(texts, ForwardOptions.INFERENCE, true, (rows, tokens, in, output) -> {
            NDArray pooled = TransformerModel.meanPool(output.lastHiddenState(), in.attentionMask()); // (B, E)
            if (normalize) {
                pooled = pooled.normalize(2, 1);
            }
            int e = (int) pooled.getShape().get(1);
            float[] flat = pooled.toFloatArray();
            for (int i = 0; i < rows.length; i++) {
                out[rows[i]] = java.util.Arrays.copyOfRange(flat, i * e, (i + 1) * e);
            }
        });
        return out;
    }
}
