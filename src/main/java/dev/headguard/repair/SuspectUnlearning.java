package dev.headguard.repair;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.headguard.model.ModelOutput;
import dev.headguard.model.Native;
import dev.headguard.text.TokenBatch;
import dev.headguard.train.Trainer;

/**
 * Unlearning on flagged suspect inputs. The flagged inputs join the clean texts in one training
 * list, unlabelled (label −1: the trainer's cross-entropy skips them), so a batch mixes both; on its
 * flagged rows U this term pulls the prediction toward a fixed distribution q that gives the
 * attacker's target class τ times its uniform share,
 * <pre>
 *   q_t = τ / C,   q_c = (1 − τ/C) / (C − 1) for c ≠ t,
 *   L_unlearn = ν · Σ_u a_u ( −Σ_c q_c log p(c | u) ) / Σ_u a_u      (u in U)
 * </pre>
 * next to the clean rows' CE(f(x), y). τ = 1 is uniform; τ = 0.75 (the default) gives two classes
 * q = (5/8, 3/8). The row weight a_u = min(1, margin_u / 2) grows with how far the scan put u above
 * its threshold ({@link #weights}): the flags just above it are the ones a clean input also reaches,
 * and pulling clean target-class inputs away from the target is what costs clean accuracy.
 *
 * <p>Why not uniform: it leaves the triggered inputs on the decision boundary, where the argmax
 * falls either way. Why not lower: every unit of pull also moves clean inputs that look like the
 * flagged ones (the τ measurements are in docs/how-it-works.md, "Design records"). Why not "the
 * other class" (τ = 0): a flagged input's true label is unknown (a SynBkd paraphrase of a positive
 * sentence is positive) and some flagged inputs are clean ones of the target class; a probe that
 * relabelled them cost 4–5 points of clean accuracy. With q the flagged rows lean away from the target without being forced into the other class, and the clean loss
 * decides the rest. One mixed list, not a clean batch paired with a flagged one: in the probes the
 * paired form removed far less of a StyleBkd backdoor.
 */
public final class SuspectUnlearning implements Trainer.AuxiliaryLoss {
    /** τ of the class comment. */
    public static final double TARGET_SHARE = 0.75;

    private final int firstFlagged;
    private final float weight;
    private final float[] q;
    private final float[] rowWeights;

    /** a_u of the class comment: full weight from this many calibration standard deviations above the threshold. */
    static final double FULL_WEIGHT_MARGIN = 2.0;

    /**
     * @param firstFlagged index of the first flagged row in the training list (the clean rows come first)
     * @param weight       ν
     * @param target       the class the flagged rows are pulled away from
     * @param classes      C
     * @param targetShare  τ in [0, 1]
     */
    public SuspectUnlearning(int firstFlagged, double weight, int target, int classes, double targetShare) {
        this(firstFlagged, weight, target, classes, targetShare, null);
    }

    /**
     * @param rowWeights a_u per flagged row, in training-list order from {@code firstFlagged} (null: all 1)
     */
    public SuspectUnlearning(int firstFlagged, double weight, int target, int classes, double targetShare, float[] rowWeights) {
        if (classes < 2 || target < 0 || target >= classes || !(targetShare >= 0 && targetShare <= 1)) {
            throw new IllegalArgumentException("target " + target + " of " + classes + " classes, share " + targetShare);
        }
        this.firstFlagged = firstFlagged;
        this.weight = (float) weight;
        this.q = distribution(target, classes, targetShare);
        this.rowWeights = rowWeights == null ? null : rowWeights.clone();
    }

    /** a_u = min(1, margin / {@value #FULL_WEIGHT_MARGIN}) for margins above a threshold (positive; a non-positive one gets 0). */
    public static float[] weights(double[] margins) {
        float[] a = new float[margins.length];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) Math.max(0, Math.min(1, margins[i] / FULL_WEIGHT_MARGIN));
        }
        return a;
    }

    /** q of the class comment. */
    static float[] distribution(int target, int classes, double targetShare) {
        float[] q = new float[classes];
        for (int c = 0; c < classes; c++) {
            q[c] = (float) (c == target ? targetShare / classes : (1 - targetShare / classes) / (classes - 1));
        }
        return q;
    }

    @Override
    public NDArray loss(int[] rows, TokenBatch batch, ModelOutput out, NDManager m) {
        float[] w = new float[rows.length];
        double sum = 0;
        for (int i = 0; i < rows.length; i++) {
            w[i] = rows[i] < firstFlagged ? 0f : rowWeights == null ? 1f : rowWeights[rows[i] - firstFlagged];
            sum += w[i];
        }
        if (sum == 0) {
            return m.zeros(new Shape());
        }
        NDArray toQ = out.logits().logSoftmax(-1).mul(Native.of(m, q, new Shape(1, q.length))).sum(new int[] {1}).neg(); // (B)
        return toQ.mul(Native.of(m, w, new Shape(rows.length))).sum().mul(Native.scalar(m, weight / sum));
    }
}
