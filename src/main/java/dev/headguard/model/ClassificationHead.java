package dev.headguard.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

import java.util.Map;

/**
 * The family's classification head: logits = out(act(dense(h[CLS]))) for the encoders, with dropout
 * where transformers has it (for BERT, act(dense(·)) is the encoder's pooler, present without a head
 * too); logits = score(h[last real token]) for the decoders.
 */
final class ClassificationHead {
    final ModelConfig c;
    final NDArray dense, denseBias; // (E, E), (E), or null (decoders)
    final NDArray out, outBias;     // (C, E), (C) or null; out null for a bare BERT with a pooler

    ClassificationHead(ModelConfig c, Map<String, NDArray> p) {
        this.c = c;
        Family.Head h = c.family().head;
        dense = h.dense == null ? null : p.get(h.dense + ".weight");
        denseBias = h.dense == null ? null : p.get(h.dense + ".bias");
        out = p.get(h.out + ".weight");
        outBias = p.get(h.out + ".bias");
    }

    /** What the output layer reads (B, E): act(dense(h[CLS])), or a decoder's last real token. */
    NDArray pooled(NDArray hidden, NDArray mask, boolean training) {
        Family.Head h = c.family().head;
        if (h == Family.Head.LAST_TOKEN) {
            return lastRealToken(hidden, mask);
        }
        NDArray cls = hidden.get(":, 0, :");                                                                       // (B, E)
        if (h == Family.Head.TANH || h == Family.Head.GELU || h == Family.Head.CONTEXT) {
            cls = Ops.dropout(cls, c.hiddenDropoutProb(), training);
        }
        return Ops.activation(c.relative() != null ? c.relative().poolerAct() : h.activation, Ops.linear(cls, dense, denseBias));
    }

    /** Each row's last real token (padding is on the right): a one-hot over T picks it, differentiably. (B, E) */
    static NDArray lastRealToken(NDArray hidden, NDArray mask) {
        long t = hidden.getShape().get(1);
        NDArray last = mask.sum(new int[] {1}).toType(DataType.INT64, false).sub(1);                           // (B)
        NDArray pick = hidden.getManager().arange(0, t, 1, DataType.INT64).expandDims(0).eq(last.expandDims(1)); // (B, T)
        return hidden.mul(pick.toType(DataType.FLOAT32, false).expandDims(2)).sum(new int[] {1});             // (B, E)
    }

    NDArray logits(NDArray pooled, boolean training) {
        NDArray x = c.family().decoder ? pooled : Ops.dropout(pooled, c.hiddenDropoutProb(), training); // decoders' score has no dropout
        return Ops.linear(x, out, outBias); // (B, C)
    }
}
