package dev.headguard.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import java.util.Map;

/**
 * DeBERTa-v2's disentangled attention scores, added to the content scores q·kᵀ:
 * <pre>
 *   c2p[q, k] = q_q · Kr[δ(q, k)]      (content to position)
 *   p2c[q, k] = k_k · Qr[δ(q, k)]      (position to content)
 *   δ(q, k)   = clamp(bucket(q − k) + span, 0, 2·span − 1)
 * </pre>
 * where Kr and Qr are the relative-position table (LayerNorm'd) projected by the layer's key and
 * query projections (or their own, without share_att_key), and every term is divided by √(H·f), f
 * counting the terms. bucket is the identity within ±buckets/2 and log-spaced beyond, in float32 as
 * transformers computes it.
 */
final class RelativeAttention {
    /** The table and the index δ, made once per forward pass for every layer. */
    record Inputs(NDArray table, NDArray index, NDArray indexTransposed) {}

    private final ModelConfig.Relative r;
    private final ModelConfig c;
    private final NDArray table;          // (2·span, E)
    private final NDArray normWeight, normBias;

    RelativeAttention(ModelConfig c, Map<String, NDArray> p) {
        this.c = c;
        this.r = c.relative();
        table = p.get(BertKeys.RELATIVE_EMBEDDINGS + ".weight");
        normWeight = p.get(BertKeys.RELATIVE_NORM + ".weight");
        normBias = p.get(BertKeys.RELATIVE_NORM + ".bias");
    }

    /** Whether the table is projected by the layer's own Q and K (share_att_key). */
    boolean sharedKey() {
        return r.shareKey();
    }

    /** How many score terms share the 1/√(H·f) scale: content plus c2p and p2c. */
    int scaleFactor() {
        return 1 + (r.c2p() ? 1 : 0) + (r.p2c() ? 1 : 0);
    }

    Inputs inputs(NDManager m, long t, boolean training) {
        NDArray e = normWeight == null ? table : Ops.layerNorm(table, normWeight, normBias, c.layerNormEps());
        e = Ops.dropout(e, c.hiddenDropoutProb(), training);
        long[] index = new long[(int) (t * t)];
        long[] transposed = new long[index.length];
        long[] byDistance = new long[(int) (2 * t - 1)]; // δ depends on q − k alone: one bucket per distance
        for (int d = 0; d < byDistance.length; d++) {
            byDistance[d] = Math.max(0, Math.min(2L * r.span() - 1, bucket(d - (t - 1)) + r.span()));
        }
        for (int q = 0; q < t; q++) {
            for (int k = 0; k < t; k++) {
                long d = byDistance[(int) (q - k + t - 1)];
                index[(int) (q * t + k)] = d;
                transposed[(int) (k * t + q)] = d;
            }
        }
        return new Inputs(e, Native.of(m, index, new Shape(1, 1, t, t)), Native.of(m, transposed, new Shape(1, 1, t, t)));
    }

    /** make_log_bucket_position of transformers, in float32. */
    long bucket(long d) {
        if (r.buckets() <= 0) {
            return d;
        }
        int mid = r.buckets() / 2;
        long abs = d < mid && d > -mid ? mid - 1 : Math.abs(d);
        if (abs <= mid) {
            return d;
        }
        float logMax = (float) Math.log((float) ((r.maxRelative() - 1) / (double) mid));
        float logPos = (float) Math.ceil((float) Math.log((float) abs / mid) / logMax * (mid - 1)) + mid;
        return (long) logPos * Long.signum(d);
    }

    /**
     * c2p + p2c for one layer's q and k (B, N, T, H), already divided by the shared scale.
     * @param key   the layer's key projection (W, b), applied to the table for c2p
     * @param query the layer's query projection (W, b), applied to the table for p2c
     */
    NDArray scores(NDArray q, NDArray k, Inputs in, NDArray[] key, NDArray[] query, NDArray scale) {
        Shape s = q.getShape();
        long b = s.get(0);
        long n = s.get(1);
        long t = s.get(2);
        long h = s.get(3);
        NDArray out = null;
        Shape full = new Shape(b, n, t, t);
        if (r.c2p()) {
            NDArray kr = heads(Ops.linear(in.table(), key[0], key[1]), n, h);                     // (1, N, 2·span, H)
            NDArray c2p = q.matMul(kr.transpose(0, 1, 3, 2)).gather(in.index().broadcast(full), 3);      // (B, N, T, T)
            out = c2p.mul(scale);
        }
        if (r.p2c()) {
            NDArray qr = heads(Ops.linear(in.table(), query[0], query[1]), n, h);                 // (1, N, 2·span, H)
            NDArray p2c = k.matMul(qr.transpose(0, 1, 3, 2)).gather(in.indexTransposed().broadcast(full), 3) // (B, N, T_k, T_q)
                    .transpose(0, 1, 3, 2).mul(scale);                                              // (B, N, T_q, T_k)
            out = out == null ? p2c : out.add(p2c);
        }
        return out;
    }

    /** (rows, N·H) -> (1, N, rows, H) */
    private static NDArray heads(NDArray x, long n, long h) {
        long rows = x.getShape().get(0);
        return x.reshape(1, rows, n, h).transpose(0, 2, 1, 3);
    }
}
