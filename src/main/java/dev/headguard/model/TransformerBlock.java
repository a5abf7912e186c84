package dev.headguard.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Arrays;
import java.util.Map;
import java.util.Set;

/**
 * One transformer block. An encoder's is post-LayerNorm, a decoder's pre-norm:
 * <pre>
 *   encoder:  x = LN(x + attn(x));      x = LN(x + ffn(x))
 *   decoder:  x = x + attn(norm(x));    x = x + ffn(norm(x))
 * </pre>
 * attn is multi-head self-attention whose heads can be read, scaled and trained one by one;
 * ffn is act(x·W_iᵀ)·W_oᵀ, or SwiGLU's (silu(x·W_gᵀ) ⊙ x·W_iᵀ)·W_oᵀ in the Llama family.
 *
 * <p>Under grouped-query attention a "head" is a query head: its Q rows and its columns of the
 * output projection are its own; K and V rows belong to its group of N / KV heads and are shared
 * with the group, so training a head also trains its group's K/V rows.
 */
final class TransformerBlock {
    /** Added to the attention scores of masked keys: torch.finfo(float32).min, as transformers does. */
    static final float MASKED_SCORE = -Float.MAX_VALUE;

    record Result(NDArray output, NDArray probs, NDArray inner) {}

    /**
     * Where positions come from besides the embeddings, per forward pass.
     * @param rotary   rotary angles of the T positions (Llama family), or null
     * @param cache    a decoder's cache: its keys and values are read before and extended after; or null
     * @param relative DeBERTa's relative attention and its inputs, or null
     */
    record Positions(Rotary rotary, KvCache cache, RelativeAttention relative, RelativeAttention.Inputs relativeInputs) {
        static final Positions NONE = new Positions(null, null, null, null);
    }

    final ModelConfig c;
    final int index;
    final NDArray wq, bq, wk, bk, wv, bv; // (N·H, E), (KV·H, E): rows h·H..(h+1)·H belong to head h; biases may be null
    final NDArray wo, bo;                 // (E, E), (E) or null: columns h·H..(h+1)·H read head h
    final NDArray ln1Weight, ln1Bias;     // the attention sublayer's norm (after it in an encoder, before in a decoder)
    final NDArray wg;                     // (I, E) SwiGLU gate, or null
    final NDArray wi, bi;                 // (I, E), (I) or null
    final NDArray wOut, bOut;             // (E, I), (E) or null
    final NDArray ln2Weight, ln2Bias;     // the feed-forward sublayer's norm
    final NDArray wPosKey, bPosKey, wPosQuery, bPosQuery; // DeBERTa's own position projections, or null

    TransformerBlock(ModelConfig c, int index, Map<String, NDArray> p) {
        this.c = c;
        this.index = index;
        wq = p.get(BertKeys.of(index, BertKeys.QUERY, BertKeys.WEIGHT));
        bq = p.get(BertKeys.of(index, BertKeys.QUERY, BertKeys.BIAS));
        wk = p.get(BertKeys.of(index, BertKeys.KEY, BertKeys.WEIGHT));
        bk = p.get(BertKeys.of(index, BertKeys.KEY, BertKeys.BIAS));
        wv = p.get(BertKeys.of(index, BertKeys.VALUE, BertKeys.WEIGHT));
        bv = p.get(BertKeys.of(index, BertKeys.VALUE, BertKeys.BIAS));
        wo = p.get(BertKeys.of(index, BertKeys.ATTENTION_OUTPUT, BertKeys.WEIGHT));
        bo = p.get(BertKeys.of(index, BertKeys.ATTENTION_OUTPUT, BertKeys.BIAS));
        ln1Weight = p.get(BertKeys.of(index, BertKeys.ATTENTION_NORM, BertKeys.WEIGHT));
        ln1Bias = p.get(BertKeys.of(index, BertKeys.ATTENTION_NORM, BertKeys.BIAS));
        wg = p.get(BertKeys.of(index, BertKeys.GATE, BertKeys.WEIGHT));
        wi = p.get(BertKeys.of(index, BertKeys.INTERMEDIATE, BertKeys.WEIGHT));
        bi = p.get(BertKeys.of(index, BertKeys.INTERMEDIATE, BertKeys.BIAS));
        wOut = p.get(BertKeys.of(index, BertKeys.OUTPUT, BertKeys.WEIGHT));
        bOut = p.get(BertKeys.of(index, BertKeys.OUTPUT, BertKeys.BIAS));
        ln2Weight = p.get(BertKeys.of(index, BertKeys.OUTPUT_NORM, BertKeys.WEIGHT));
        ln2Bias = p.get(BertKeys.of(index, BertKeys.OUTPUT_NORM, BertKeys.BIAS));
        wPosKey = p.get(BertKeys.of(index, BertKeys.POSITION_KEY, BertKeys.WEIGHT));
        bPosKey = p.get(BertKeys.of(index, BertKeys.POSITION_KEY, BertKeys.BIAS));
        wPosQuery = p.get(BertKeys.of(index, BertKeys.POSITION_QUERY, BertKeys.WEIGHT));
        bPosQuery = p.get(BertKeys.of(index, BertKeys.POSITION_QUERY, BertKeys.BIAS));
    }

    /**
     * @param x         (B, T, E) input, or (R, E) when {@code packing} is given
     * @param maskBias  (B, 1, T or 1, keys) 0 where a query may read a key, very negative where not
     * @param headScale (1, N, 1, 1) or null
     * @param trainable heads whose attention slices may receive gradients, or null for all
     * @param packing   the batch's real tokens when x holds only theirs (inference), else null
     */
    Result forward(NDArray x, NDArray maskBias, NDArray headScale, Set<HeadId> trainable, boolean training, Positions positions,
                   Packing packing) {
        if (!c.family().decoder) {
            Result a = attention(x, maskBias, headScale, trainable, training, positions, packing);
            NDArray attended = Ops.layerNorm(Ops.plus(a.output, x), ln1Weight, ln1Bias, c.layerNormEps()); // (B, T, E)
            NDArray inner = Ops.activation(c.hiddenAct(), Ops.linear(attended, wi, bi));                  // (B, T, I)
            NDArray out = Ops.layerNorm(Ops.plus(Ops.dropout(Ops.linear(inner, wOut, bOut), c.hiddenDropoutProb(), training), attended),
                    ln2Weight, ln2Bias, c.layerNormEps());                                              // (B, T, E)
            return new Result(out, a.probs, inner);
        }
        Result a = attention(norm(x, ln1Weight, ln1Bias), maskBias, headScale, trainable, training, positions, packing);
        x = Ops.plus(a.output, x);                                                                        // x + attn(norm(x))
        NDArray h = norm(x, ln2Weight, ln2Bias);
        NDArray inner = wg == null ? Ops.activation(c.hiddenAct(), Ops.linear(h, wi, bi))                // (B, T, I)
                : Ops.swiGlu(Ops.linear(h, wg, null), Ops.linear(h, wi, null));
        x = Ops.plus(Ops.dropout(Ops.linear(inner, wOut, bOut), c.hiddenDropoutProb(), training), x);     // x + ffn(norm(x))
        return new Result(x, a.probs, inner);
    }

    /** A decoder's norm: LayerNorm (GPT-2) or RMSNorm (Llama family, no bias). */
    private NDArray norm(NDArray x, NDArray weight, NDArray bias) {
        return bias != null ? Ops.layerNorm(x, weight, bias, c.layerNormEps()) : Ops.rmsNorm(x, weight, c.layerNormEps());
    }

    /** Multi-head self-attention; its output is the projection (before any residual), with dropout. */
    private Result attention(NDArray x, NDArray maskBias, NDArray headScale, Set<HeadId> trainable, boolean training, Positions positions,
                             Packing packing) {
        Rotary rotary = positions.rotary();
        KvCache cache = positions.cache();
        long b = packing == null ? x.getShape().get(0) : packing.batch();
        long t = packing == null ? x.getShape().get(1) : packing.tokens();
        int heads = c.numAttentionHeads();
        int kvHeads = c.keyValueHeads();
        int h = c.headSize();

        // Restrict gradients to the chosen heads' slices; values are unchanged.
        NDArray qRows = trainable == null ? null : headMask(trainable, x.getManager(), heads, 1, true);          // (N·H, 1)
        NDArray kvRows = trainable == null ? null : headMask(trainable, x.getManager(), kvHeads, heads / kvHeads, true); // (KV·H, 1)
        NDArray oColumns = trainable == null ? null : headMask(trainable, x.getManager(), heads, 1, false);       // (1, N·H)

        // One product for Q, K and V, as GPT-2's c_attn: one wide matrix product is faster than three narrow ones
        NDArray w = NDArrays.concat(new NDList(only(wq, qRows), only(wk, kvRows), only(wv, kvRows)), 0);
        NDArray bias = bq == null ? null : NDArrays.concat(new NDList(only(bq, flat(qRows)), only(bk, flat(kvRows)), only(bv, flat(kvRows))), 0);
        NDArray qkv = Ops.linear(x, w, bias);                                                           // (B, T, (N + 2·KV)·H)
        if (packing != null) {
            qkv = packing.unpackProjections(qkv); // padded keys and values are zero: masked, they are never read
        }
        long qw = (long) heads * h;
        long kw = (long) kvHeads * h;
        NDArray q = split(qkv.get(":, :, 0:" + qw), b, t, heads, h);                                   // (B, N, T, H)
        NDArray k = split(qkv.get(":, :, " + qw + ":" + (qw + kw)), b, t, kvHeads, h);                 // (B, KV, T, H)
        NDArray v = split(qkv.get(":, :, " + (qw + kw) + ":"), b, t, kvHeads, h);                      // (B, KV, T, H)
        if (rotary != null) {
            q = rotary.apply(q);
            k = rotary.apply(k);
        }
        if (cache != null) {
            if (cache.keys(index) != null) {
                k = NDArrays.concat(new NDList(cache.keys(index), k), 2);                                 // (B, KV, seen + T, H)
                v = NDArrays.concat(new NDList(cache.values(index), v), 2);
            }
            cache.put(index, k, v);
        }
        if (kvHeads != heads) {
            k = repeatHeads(k, heads / kvHeads);                                                          // (B, N, keys, H)
            v = repeatHeads(v, heads / kvHeads);
        }
        // softmax(q·kᵀ / √H + mask): each head's distribution over keys.
        // The 1/√H constant is PyTorch-owned: backward reads it (see Native).
        RelativeAttention rel = positions.relative();
        NDArray scale = Native.scalar(x.getManager(), 1 / Math.sqrt((double) h * (rel == null ? 1 : rel.scaleFactor())));
        NDArray scores = Ops.times(q.matMul(k.transpose(0, 1, 3, 2)), scale);                           // (B, N, T, keys)
        if (rel != null) {
            // DeBERTa: plus content-to-position and position-to-content scores (RelativeAttention)
            NDArray[] key = rel.sharedKey() ? new NDArray[] {only(wk, kvRows), only(bk, flat(kvRows))} : new NDArray[] {wPosKey, bPosKey};
            NDArray[] query = rel.sharedKey() ? new NDArray[] {only(wq, qRows), only(bq, flat(qRows))} : new NDArray[] {wPosQuery, bPosQuery};
            scores = scores.add(rel.scores(q, k, positions.relativeInputs(), key, query, scale));
        }
        NDArray probs = Ops.plus(scores, maskBias).softmax(-1);
        if (headScale != null) {
            probs = probs.mul(headScale);
        }
        NDArray context = Ops.dropout(probs, c.attentionProbsDropout(), training).matMul(v)            // (B, N, T, H)
                .transpose(0, 2, 1, 3).reshape(b, t, (long) heads * h);                                // (B, T, E)
        if (packing != null) {
            context = packing.pack(context);                                                              // (R, E)
        }
        NDArray out = Ops.dropout(Ops.linear(context, only(wo, oColumns), bo), c.hiddenDropoutProb(), training);
        return new Result(out, probs, null);
    }

    /** (B, KV, T, H) -> (B, KV·g, T, H): each K/V head serves g consecutive query heads. */
    private static NDArray repeatHeads(NDArray x, int g) {
        Shape s = x.getShape();
        return x.expandDims(2).broadcast(new Shape(s.get(0), s.get(1), g, s.get(2), s.get(3))).reshape(s.get(0), s.get(1) * g, s.get(2), s.get(3));
    }

    /** (B, T, E) -> (B, N, T, H) */
    private static NDArray split(NDArray x, long b, long t, int heads, int h) {
        return x.reshape(b, t, heads, h).transpose(0, 2, 1, 3);
    }

    /**
     * 1 on the rows (or columns) of this layer's trainable heads, 0 elsewhere, over {@code slots}
     * slices of H; a slot serves {@code group} query heads (K/V under grouped-query attention).
     */
    private NDArray headMask(Set<HeadId> trainable, NDManager m, int slots, int group, boolean rows) {
        int h = c.headSize();
        float[] v = new float[slots * h];
        for (HeadId id : trainable) {
            if (id.layer() == index && id.head() < c.numAttentionHeads()) {
                int slot = id.head() / group;
                Arrays.fill(v, slot * h, (slot + 1) * h, 1f);
            }
        }
        return Native.of(m, v, rows ? new Shape(v.length, 1) : new Shape(1, v.length)); // backward reads it
    }

    private static NDArray flat(NDArray mask) {
        return mask == null ? null : mask.reshape(-1);
    }

    /** w itself in value; its gradient is the incoming gradient times the mask (straight-through). */
    private static NDArray only(NDArray w, NDArray mask) {
        if (mask == null || w == null) {
            return w;
        }
        NDArray frozen = w.stopGradient();
        return frozen.add(w.sub(frozen).mul(mask));
    }
}
