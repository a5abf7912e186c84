package dev.headguard.repair;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.headguard.model.BertOutput;
import dev.headguard.model.Native;
import dev.headguard.text.TokenBatch;
import dev.headguard.train.Trainer;

/**
 * Unlearning on flagged suspect inputs. The flagged inputs join the clean texts in one training
 * list, unlabelled (label −1: the trainer's cross-entropy skips them), so a batch mixes both; on its
 * flagged rows U this term pulls the prediction toward uniform,
 * <pre>
 *   L_unlearn = ν · mean over u in U of ( −(1/C) Σ_c log p(c | u) )
 * </pre>
 * (cross-entropy to the uniform distribution), next to the clean rows' CE(f(x), y).
 * Uniform, not "the other class": a flagged input's true label is unknown (a SynBkd paraphrase of a
 * positive sentence is positive), and some flagged inputs are clean ones of the target class; toward
 * uniform, the clean loss decides where they end, while the trigger stops being a shortcut to the
 * target. One mixed list, not a clean batch paired with a flagged one: in the probes of the repair
 * issue's closing note the paired form (and a decaying rate) removed far less of a StyleBkd backdoor.
 */
public final class SuspectUnlearning implements Trainer.AuxiliaryLoss {
    private final int firstFlagged;
    private final float weight;

    /**
     * @param firstFlagged index of the first flagged row in the training list (the clean rows come first)
     * @param weight       ν
     */
    public SuspectUnlearning(int firstFlagged, double weight) {
        this.firstFlagged = firstFlagged;
        this.weight = (float) weight;
    }

    @Override
    public NDArray loss(int[] rows, TokenBatch batch, BertOutput out, NDManager m) {
        float[] w = new float[rows.length];
        int n = 0;
        for (int i = 0; i < rows.length; i++) {
            w[i] = rows[i] >= firstFlagged ? 1f : 0f;
            n += rows[i] >= firstFlagged ? 1 : 0;
        }
        if (n == 0) {
            return m.zeros(new Shape());
        }
        NDArray toUniform = out.logits().logSoftmax(-1).mean(new int[] {1}).neg();          // (B)
        return toUniform.mul(Native.of(m, w, new Shape(rows.length))).sum().mul(Native.scalar(m, weight / (double) n));
    }
}
