package dev.headguard.repair;

import dev.headguard.train.Losses;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.headguard.model.TransformerModel;
import dev.headguard.model.ModelOutput;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.HeadId;
import dev.headguard.model.Native;
import dev.headguard.text.TokenBatch;
import dev.headguard.train.Trainer;

import java.util.List;
import java.util.Set;

/**
 * Attention safety alignment: for each clean training text x there is a copy x' that carries
 * something suspicious (a trigger candidate from the scan) inserted at one place. On the
 * original tokens of x', each repaired head should attend as it does on x:
 * <pre>
 *   L_align = mean over rows b, repaired heads h, real query tokens i of
 *             Σ_j ( A_h(x')[π(i), π(j)] − sg(A_h(x)[i, j]) )²
 * </pre>
 * where π maps x's token positions to their positions in x' (skipping the inserted tokens) and
 * sg stops the gradient (the clean attention is the target, not a thing to move). Rows of A(x')
 * restricted to the original columns are compared as they are, not renormalised: a head that puts
 * nearly all of its attention on the trigger leaves the rest summing to almost 0, and dividing by
 * that is exactly how a probe of this loss produced NaN gradients. Unrenormalised, the same head
 * simply pays for the mass it moved onto the trigger.
 */
public final class AttentionAlignment implements Trainer.AuxiliaryLoss {
    private final TransformerModel model;
    private final List<long[]> triggered;
    private final int[] insertAt;
    private final int[] inserted;
    private final Set<HeadId> heads;
    private final float weight;
    private final ForwardOptions options;
    private final long padId;
    private final int[] labels;
    private final float labelWeight;
    private TriggeredLoss triggeredLoss;

    /** A term computed on the copies' forward pass (a decoder's response loss on them, say), added to the alignment. */
    @FunctionalInterface
    public interface TriggeredLoss {
        NDArray loss(int[] rows, TokenBatch triggered, ModelOutput out, NDManager m);
    }

    /** Adds {@code f} on the copies' own forward pass, which the alignment makes anyway. */
    public AttentionAlignment withTriggeredLoss(TriggeredLoss f) {
        this.triggeredLoss = f;
        return this;
    }

    /**
     * @param clean     token ids of the training texts (the trainer's list)
     * @param triggered token ids of the same texts with something inserted, same order
     * @param heads     the heads whose attention is aligned (and trained)
     */
    public AttentionAlignment(TransformerModel model, long padId, List<long[]> clean, List<long[]> triggered, Set<HeadId> heads, double weight) {
        this(model, padId, clean, triggered, heads, weight, null, 0);
    }

    /**
     * The same, plus μ · CE(f(x'), y): the copy with the candidate inserted must keep its text's true
     * label (the inserted candidate may not flip it).
     *
     * @param labels      the training texts' labels (null when μ = 0)
     * @param labelWeight μ
     */
    public AttentionAlignment(TransformerModel model, long padId, List<long[]> clean, List<long[]> triggered, Set<HeadId> heads, double weight,
                              int[] labels, double labelWeight) {
        if (clean.size() != triggered.size() || labels != null && labels.length != clean.size()) {
            throw new IllegalArgumentException("clean, triggered and label lists differ in length");
        }
        this.labels = labels;
        this.labelWeight = (float) labelWeight;
        this.model = model;
        this.padId = padId;
        this.triggered = triggered;
        this.heads = Set.copyOf(heads);
        this.weight = (float) weight;
        this.insertAt = new int[clean.size()];
        this.inserted = new int[clean.size()];
        for (int i = 0; i < clean.size(); i++) {
            int[] km = insertion(clean.get(i), triggered.get(i));
            insertAt[i] = km[0];
            inserted[i] = km[1];
        }
        this.options = ForwardOptions.INFERENCE.withAttentions().withTrainableHeads(this.heads).withTraining(true);
    }

    /**
     * Where x' differs from x by one contiguous insertion: {k, m} with x' = x[0..k) + m tokens + x[k..).
     * {-1, 0} when it does not (e.g. truncation cut x'): such rows are left out of the loss.
     */
    static int[] insertion(long[] x, long[] y) {
        int m = y.length - x.length;
        if (m <= 0) {
            return new int[] {-1, 0};
        }
        int k = 0;
        while (k < x.length && x[k] == y[k]) {
            k++;
        }
        for (int j = k; j < x.length; j++) {
            if (x[j] != y[j + m]) {
                return new int[] {-1, 0};
            }
        }
        return new int[] {k, m};
    }

    /** Rows of the training list that take part (their copy is a clean insertion). */
    public int alignedRows() {
        int n = 0;
        for (int k : insertAt) {
            n += k >= 0 ? 1 : 0;
        }
        return n;
    }

    @Override
    public NDArray loss(int[] rows, TokenBatch batch, ModelOutput out, NDManager m) {
        int b = rows.length;
        int t = batch.length();
        List<long[]> seqs = new java.util.ArrayList<>(b);
        for (int r : rows) {
            seqs.add(triggered.get(r));
        }
        TokenBatch tb = TokenBatch.of(seqs, padId);
        int tt = tb.length();
        long[] index = new long[b * t];
        float[] keep = new float[b * t];
        for (int i = 0; i < b; i++) {
            int r = rows[i];
            int len = batch.lengths()[i];
            for (int j = 0; j < t; j++) {
                boolean real = j < len && insertAt[r] >= 0;
                index[i * t + j] = !real ? 0 : j < insertAt[r] ? j : j + inserted[r];
                keep[i * t + j] = real ? 1f : 0f;
            }
        }
        TokenBatch.Arrays in = tb.toArrays(m);
        ModelOutput outT = model.forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), options);
        int n = model.config().numAttentionHeads();
        // Constants of the graph in PyTorch-owned memory (see Native): backward reads them.
        NDArray idx = Native.of(m, index, new Shape(b, 1, t, 1));
        NDArray rowsKept = Native.of(m, keep, new Shape(b, 1, t, 1));
        NDArray colsKept = rowsKept.reshape(b, 1, 1, t);
        NDArray total = null;
        int layersUsed = 0;
        for (int l = 0; l < model.config().numHiddenLayers(); l++) {
            float[] hm = new float[n];
            int count = 0;
            for (HeadId h : heads) {
                if (h.layer() == l && h.head() < n) {
                    hm[h.head()] = 1f;
                    count++;
                }
            }
            if (count == 0) {
                continue;
            }
            NDArray headMask = Native.of(m, hm, new Shape(1, n, 1, 1));
            NDArray a = outT.attentions().get(l);                                              // (B, N, T', T')
            NDArray r = a.gather(idx.broadcast(b, n, t, tt), 2);                              // (B, N, T, T'): original query rows
            NDArray c = r.gather(idx.reshape(b, 1, 1, t).broadcast(b, n, t, t), 3);           // (B, N, T, T): original key columns
            NDArray ref = out.attentions().get(l).stopGradient();                              // (B, N, T, T)
            NDArray d = c.sub(ref).mul(rowsKept).mul(colsKept).mul(headMask);
            NDArray perRow = d.square().sum(new int[] {3});                                     // (B, N, T)
            NDArray rowsCount = rowsKept.sum().mul(Native.scalar(m, count)).add(Native.scalar(m, 1e-6));
            NDArray layerLoss = perRow.sum().div(rowsCount);
            total = total == null ? layerLoss : total.add(layerLoss);
            layersUsed++;
        }
        NDArray align = total == null ? m.zeros(new Shape()) : total.mul(Native.scalar(m, weight / layersUsed));
        if (triggeredLoss != null) {
            align = align.add(triggeredLoss.loss(rows, tb, outT, m));
        }
        if (labels == null || labelWeight == 0) {
            return align;
        }
        int[] y = new int[b];
        for (int i = 0; i < b; i++) {
            y[i] = labels[rows[i]];
        }
        // Rows labelled −1 (unlabelled, e.g. texts being unlearned) add nothing here.
        NDArray ce = Losses.labelledCrossEntropy(outT.logits(), y, m);
        return align.add(ce.mul(Native.scalar(m, labelWeight)));
    }
}
