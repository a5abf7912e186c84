package dev.headguard.detect.attention;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.headguard.model.ModelConfig;
import dev.headguard.model.ModelOutput;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Turns one input's attention maps into a vector of head statistics, the raw material of every
 * scan. For layer l with heads h = 1..N and attention rows A_{l,h} (real tokens only):
 * <ul>
 *   <li>{@link Family#LAYER_COSINE}: mean over head pairs of cos(vec A_{l,h}, vec A_{l,h'}) — the
 *       layer-level convergence signal;</li>
 *   <li>{@link Family#HEAD_COSINE}: each head's mean cosine to the other heads of its layer;</li>
 *   <li>{@link Family#CLS_ENTROPY}: entropy of the head's [CLS] row, divided by log(T), the
 *       entropy of a uniform row (a head that locks onto one token, such as a trigger, goes to 0);</li>
 *   <li>{@link Family#HEAD_JS}: each head's mean Jensen-Shannon divergence to the other heads of
 *       its layer, averaged over the real query rows (a row-wise alternative to the cosine);</li>
 *   <li>{@link Family#SEP_MASS}: the head's mean attention on the final [SEP] token over the real
 *       query rows — where heads park attention when they have nothing to do, and which a trigger
 *       that gives them something to do moves;</li>
 *   <li>{@link Family#ROW_ENTROPY}: the head's entropy averaged over all real query rows, / log T;</li>
 *   <li>{@link Family#DISTANCE}: how far the head looks, Σ_j A[i,j]·|i − j| averaged over real rows
 *       and divided by T — syntactic templates move it.</li>
 * </ul>
 * On a decoder the [CLS] row is the last real token's (the row that predicts the continuation) and the
 * [SEP] token is the first one (where causal heads park attention).
 * Which families are computed is a choice; the order of the vector is fixed by {@link #names}.
 */
public final class AttentionFeatures {

    public enum Family {
        LAYER_COSINE("layer-cos"), HEAD_COSINE("head-cos"), CLS_ENTROPY("cls-entropy"), HEAD_JS("head-js"), SEP_MASS("sep-mass"), ROW_ENTROPY("row-entropy"), DISTANCE("distance");

        public final String key;

        Family(String key) {
            this.key = key;
        }

        public static Family of(String key) {
            for (Family f : values()) {
                if (f.key.equals(key)) {
                    return f;
                }
            }
            throw new IllegalArgumentException("unknown feature family '" + key + "' (known: layer-cos, head-cos, cls-entropy, head-js, sep-mass, row-entropy, distance)");
        }
    }

    /** The default: what separated triggered from clean inputs best in {@code bench detect} (docs/how-it-works.md). */
    public static final Set<Family> DEFAULT = EnumSet.of(Family.LAYER_COSINE, Family.HEAD_COSINE, Family.CLS_ENTROPY);

    /**
     * A decoder's default: its last row's entropy alone. The layer and head cosines average over every
     * row of a causal map, most of which never see the trigger (docs/results.md, session 9).
     */
    public static final Set<Family> DECODER_DEFAULT = EnumSet.of(Family.CLS_ENTROPY);

    /** {@link #DECODER_DEFAULT} for a decoder, else {@link #DEFAULT}. */
    public static Set<Family> defaultFor(ModelConfig config) {
        return EnumSet.copyOf(config.family().decoder ? DECODER_DEFAULT : DEFAULT);
    }

    /** The default families for this vector's model ({@link #defaultFor}). */
    public Set<Family> defaults() {
        return EnumSet.copyOf(decoder ? DECODER_DEFAULT : DEFAULT);
    }

    private static final float EPS = 1e-12f;

    private final int layers;
    private final int heads;
    private final Set<Family> families;
    private final boolean decoder;

    public AttentionFeatures(ModelConfig config, Set<Family> families) {
        if (families.isEmpty()) {
            throw new IllegalArgumentException("at least one feature family is needed");
        }
        this.layers = config.numHiddenLayers();
        this.heads = config.numAttentionHeads();
        this.families = EnumSet.copyOf(families);
        this.decoder = config.family().decoder;
    }

    public Set<Family> families() {
        return EnumSet.copyOf(families);
    }

    public int layers() {
        return layers;
    }

    public int heads() {
        return heads;
    }

    /** Entries of one family in the vector. */
    private int width(Family f) {
        return f == Family.LAYER_COSINE ? layers : layers * heads;
    }

    /** Length of one input's vector. */
    public int size() {
        int d = 0;
        for (Family f : families) {
            d += width(f);
        }
        return d;
    }

    /** A readable name per vector entry, e.g. {@code L3 layer-cos}, {@code L3H7 cls-entropy}. */
    public List<String> names() {
        List<String> out = new ArrayList<>();
        for (Family f : families) {
            for (int l = 0; l < layers; l++) {
                if (f == Family.LAYER_COSINE) {
                    out.add(String.format(Locale.ROOT, "L%d %s", l, f.key));
                } else {
                    for (int h = 0; h < heads; h++) {
                        out.add(String.format(Locale.ROOT, "L%dH%d %s", l, h, f.key));
                    }
                }
            }
        }
        return out;
    }

    /** The columns of {@code subset}'s families in this vector (for {@link Probe.Result#select}). */
    public int[] columnsOf(Set<Family> subset) {
        List<Integer> cols = new ArrayList<>();
        for (Family f : subset) {
            for (int l = 0; l < layers; l++) {
                if (f == Family.LAYER_COSINE) {
                    cols.add(index(f, l, 0));
                } else {
                    for (int h = 0; h < heads; h++) {
                        cols.add(index(f, l, h));
                    }
                }
            }
        }
        return cols.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Where family {@code f}'s entry for (layer, head) sits in the vector; head is ignored for the layer family. */
    public int index(Family f, int layer, int head) {
        int base = 0;
        for (Family g : families) {
            if (g == f) {
                return base + (f == Family.LAYER_COSINE ? layer : layer * heads + head);
            }
            base += width(g);
        }
        throw new IllegalArgumentException(f + " is not computed");
    }

    /**
     * The vectors of one batch.
     *
     * @param out     a forward pass with attentions, padding rows and columns zeroed
     * @param lengths real tokens per row
     * @return one vector per batch row
     */
    public float[][] of(ModelOutput out, int[] lengths) {
        List<NDArray> attentions = out.attentions();
        if (attentions == null || attentions.size() != layers) {
            throw new IllegalArgumentException("the forward pass must return the attention maps of every layer");
        }
        int b = lengths.length;
        float[][] v = new float[b][size()];
        NDManager m = attentions.get(0).getManager();
        float[] len = new float[b];
        for (int i = 0; i < b; i++) {
            len[i] = lengths[i];
        }
        try (NDManager scope = m.newSubManager()) {
            NDArray n = scope.create(len, new Shape(b, 1));                                // (B, 1)
            NDArray logN = n.log();
            for (Family f : families) {
                for (int l = 0; l < layers; l++) {
                    NDArray a = attentions.get(l);                                          // (B, N, T, T)
                    float[] x = switch (f) {
                        case LAYER_COSINE -> HeadSimilarity.layerMean(HeadSimilarity.pairwiseCosine(a)).toFloatArray();
                        case HEAD_COSINE -> HeadSimilarity.meanToOthers(HeadSimilarity.pairwiseCosine(a)).toFloatArray();
                        case CLS_ENTROPY -> (decoder ? lastRowEntropy(a, lengths, logN, scope) : clsEntropy(a, logN)).toFloatArray();
                        case HEAD_JS -> jensenShannonToOthers(a, n).toFloatArray();
                        case SEP_MASS -> (decoder ? firstMass(a, n) : sepMass(a, lengths, scope)).toFloatArray();
                        case ROW_ENTROPY -> rowEntropy(a, n, logN).toFloatArray();
                        case DISTANCE -> distance(a, n, scope).toFloatArray();
                    };
                    int width = f == Family.LAYER_COSINE ? 1 : heads;
                    int offset = index(f, l, 0);
                    for (int i = 0; i < b; i++) {
                        System.arraycopy(x, i * width, v[i], offset, width);
                    }
                }
            }
        }
        return v;
    }

    /** Mean over real query rows of the attention on the last real token ([SEP]): (B, N). */
    static NDArray sepMass(NDArray attention, int[] lengths, NDManager m) {
        long t = attention.getShape().get(3);
        float[] oneHot = new float[lengths.length * (int) t];
        float[] inv = new float[lengths.length];
        for (int i = 0; i < lengths.length; i++) {
            oneHot[i * (int) t + lengths[i] - 1] = 1f;
            inv[i] = 1f / lengths[i];
        }
        NDArray sep = m.create(oneHot, new Shape(lengths.length, 1, t, 1));               // (B, 1, T, 1)
        NDArray mass = attention.matMul(sep);                                             // (B, N, T, 1), broadcast over heads
        return mass.sum(new int[] {2, 3}).mul(m.create(inv, new Shape(lengths.length, 1)));
    }

    /**
     * A decoder's [CLS] row: its last real token's, the row that predicts the continuation (the first
     * row of a causal map attends only to itself). H(A[last,:]) / log T per head: (B, N).
     */
    static NDArray lastRowEntropy(NDArray attention, int[] lengths, NDArray logN, NDManager m) {
        long b = attention.getShape().get(0);
        long heads = attention.getShape().get(1);
        long t = attention.getShape().get(3);
        long[] last = new long[lengths.length];
        for (int i = 0; i < lengths.length; i++) {
            last[i] = lengths[i] - 1;
        }
        NDArray index = m.create(last, new Shape(b, 1, 1, 1)).broadcast(b, heads, 1, t);
        NDArray p = attention.gather(index, 2).squeeze(2);                                   // (B, N, T)
        NDArray h = p.mul(p.add(EPS).log()).sum(new int[] {2}).neg();
        return h.div(logN);
    }

    /**
     * A decoder's [SEP]: the first token, where causal heads park attention they have no use for.
     * Mean over real query rows of the attention on it: (B, N).
     */
    static NDArray firstMass(NDArray attention, NDArray n) {
        return attention.get(":, :, :, 0").sum(new int[] {2}).div(n);
    }

    /** Mean over real rows of H(A[i,:]) / log T: (B, N). Padding rows are zero and add 0. */
    static NDArray rowEntropy(NDArray attention, NDArray n, NDArray logN) {
        NDArray h = attention.mul(attention.add(EPS).log()).sum(new int[] {3}).neg().sum(new int[] {2}); // (B, N)
        return h.div(n).div(logN);
    }

    /** Mean over real rows of Σ_j A[i,j]·|i − j|, divided by the length: (B, N). */
    static NDArray distance(NDArray attention, NDArray n, NDManager m) {
        int t = (int) attention.getShape().get(3);
        float[] d = new float[t * t];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < t; j++) {
                d[i * t + j] = Math.abs(i - j);
            }
        }
        NDArray dist = m.create(d, new Shape(t, t));
        return attention.mul(dist).sum(new int[] {2, 3}).div(n).div(n);
    }

    /** H(A[CLS,:]) / log T per head: (B, N). Zero probabilities (padding) contribute 0. */
    static NDArray clsEntropy(NDArray attention, NDArray logN) {
        NDArray p = attention.get(":, :, 0, :");                                           // (B, N, T)
        NDArray h = p.mul(p.add(EPS).log()).sum(new int[] {2}).neg();                      // (B, N)
        return h.div(logN);
    }

    /**
     * Mean over real query rows q and other heads h' of JS(A_h[q], A_h'[q]) in nats: (B, N).
     * JS(p, r) = ½ Σ p log(p/m) + ½ Σ r log(r/m), m = (p + r)/2; padding rows are all zero and add 0.
     */
    static NDArray jensenShannonToOthers(NDArray attention, NDArray n) {
        long heads = attention.getShape().get(1);
        NDArray p = attention.expandDims(2);                                               // (B, N, 1, T, T)
        NDArray r = attention.expandDims(1);                                               // (B, 1, N, T, T)
        NDArray mid = p.add(r).mul(0.5f);                                                  // (B, N, N, T, T)
        NDArray logMid = mid.add(EPS).log();
        NDArray selfTerm = attention.mul(attention.add(EPS).log()).sum(new int[] {3});    // (B, N, T): Σ p log p
        NDArray cross = p.mul(logMid).sum(new int[] {4});                                 // (B, N, N, T): Σ p log m
        NDArray crossR = r.mul(logMid).sum(new int[] {4});                                // (B, N, N, T): Σ r log m
        NDArray js = selfTerm.expandDims(2).sub(cross).add(selfTerm.expandDims(1)).sub(crossR).mul(0.5f); // (B, N, N, T)
        NDArray perPair = js.sum(new int[] {3}).div(n.expandDims(2));                     // (B, N, N), mean over real rows
        return perPair.sum(new int[] {2}).div(heads - 1f);                                // diagonal is 0
    }

}
