package dev.headguard.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;

import java.util.Map;

/**
 * Token vectors: word[ids] + position[pos] (+ type[types]), then, in the encoders, LayerNorm and
 * ELECTRA's projection when its embeddings are narrower. pos is 0..T (after the cache in a decoder),
 * or for RoBERTa pad+1.. over real tokens and pad on padding. The Llama family has no position
 * table (its positions are rotary, in attention) and the decoders no norm here (theirs is pre-norm).
 */
final class Embeddings {
    final ModelConfig c;
    final NDArray word;      // (V, W), W the embedding width (E but for ELECTRA)
    final NDArray position;  // (P, W), or null (rotary)
    final NDArray tokenType; // (types, W), or null (DistilBERT, decoders)
    final NDArray lnWeight;  // (W), or null (decoders)
    final NDArray lnBias;    // (W), or null
    final NDArray projWeight, projBias; // (E, W), (E), or null

    Embeddings(ModelConfig c, Map<String, NDArray> p) {
        this.c = c;
        word = p.get(BertKeys.WORD_EMBEDDINGS);
        position = p.get("embeddings.position_embeddings.weight");
        tokenType = p.get("embeddings.token_type_embeddings.weight");
        lnWeight = p.get("embeddings.LayerNorm.weight");
        lnBias = p.get("embeddings.LayerNorm.bias");
        projWeight = p.get(TransformerModel.PROJECTION + ".weight");
        projBias = p.get(TransformerModel.PROJECTION + ".bias");
    }

    /**
     * (B, T, E) for ids (B, T); {@code words}: (B, T, W) vectors used instead of the ids' rows, or null;
     * {@code offset}: tokens already in a decoder's cache.
     */
    NDArray forward(NDArray ids, NDArray words, NDArray types, boolean training, long offset) {
        long t = ids.getShape().get(1);
        NDManager m = ids.getManager();
        // given vectors are copied when inference steps will update x in place (a copy would cut autograd's graph)
        NDArray x = words == null ? Embedding.embedding(ids, word, SparseFormat.DENSE).singletonOrThrow()
                : Native.recording() ? words : words.duplicate(); // (B, T, W)
        if (position != null) {
            NDArray positions;
            if (c.family().positionsPastPadding()) {
                NDArray real = ids.neq(c.padTokenId()).toType(DataType.INT64, false);             // (B, T)
                positions = real.cumSum(1).mul(real).add(c.padTokenId());                        // (B, T)
            } else {
                positions = m.arange(offset, offset + t, 1, DataType.INT64);                     // (T)
            }
            x = x.add(Embedding.embedding(positions, position, SparseFormat.DENSE).singletonOrThrow()); // + (T or B·T, W)
        }
        if (tokenType != null) {
            NDArray typeIds = types == null ? m.zeros(ids.getShape(), DataType.INT64) : types;
            x = x.add(Embedding.embedding(typeIds, tokenType, SparseFormat.DENSE).singletonOrThrow()); // + (B, T, W)
        }
        if (lnWeight != null) {
            x = Ops.layerNorm(x, lnWeight, lnBias, c.layerNormEps());
        }
        x = Ops.dropout(x, c.hiddenDropoutProb(), training);
        return projWeight == null ? x : Ops.linear(x, projWeight, projBias);                     // (B, T, E)
    }
}
