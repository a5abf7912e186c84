package dev.headguard.repair;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.headguard.model.ModelOutput;
import dev.headguard.model.Native;
import dev.headguard.text.TokenBatch;
import dev.headguard.train.Trainer;

/**
 * Keeps a training stage's predictions on the clean rows where they were when it began: on the rows
 * of the training list before {@code cleanRows},
 * <pre>
 *   L_keep = w · T² · Σ_x KL(p_0(· | x)^{1/T} ‖ p(· | x)^{1/T}) / |x|
 * </pre>
 * with p_0 the stage's starting model (softened by the temperature T, Hinton's distillation). The
 * carriers after those rows are left to the cross-entropy: they are where the stage must move the model.
 */
public final class CleanDistillation implements Trainer.AuxiliaryLoss {
    private final int cleanRows;
    private final float weight;
    private final float temperature;
    private final float[][] teacher; // per clean row, p_0^{1/T} normalised

    /**
     * @param probabilities the starting model's class probabilities on the clean rows, in training-list order
     */
    public CleanDistillation(float[][] probabilities, double weight, double temperature) {
        this.cleanRows = probabilities.length;
        this.weight = (float) weight;
        this.temperature = (float) temperature;
        this.teacher = new float[probabilities.length][];
        for (int i = 0; i < probabilities.length; i++) {
            float[] logits = new float[probabilities[i].length];
            for (int c = 0; c < logits.length; c++) {
                logits[c] = (float) Math.log(Math.max(probabilities[i][c], 1e-12f)); // logits up to a constant
            }
            teacher[i] = softmax(logits, temperature);
        }
    }

    static float[] softmax(float[] z, double t) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : z) {
            max = Math.max(max, v / t);
        }
        double sum = 0;
        double[] e = new double[z.length];
        for (int c = 0; c < z.length; c++) {
            e[c] = Math.exp(z[c] / t - max);
            sum += e[c];
        }
        float[] p = new float[z.length];
        for (int c = 0; c < z.length; c++) {
            p[c] = (float) (e[c] / sum);
        }
        return p;
    }

    @Override
    public NDArray loss(int[] rows, TokenBatch batch, ModelOutput out, NDManager m) {
        int classes = teacher.length == 0 ? 0 : teacher[0].length;
        float[] q = new float[rows.length * classes];
        float[] w = new float[rows.length];
        int n = 0;
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < cleanRows) {
                System.arraycopy(teacher[rows[i]], 0, q, i * classes, classes);
                w[i] = 1f;
                n++;
            }
        }
        if (n == 0) {
            return m.zeros(new Shape());
        }
        // KL(q ‖ p) = Σ q log q − Σ q log p; the first sum is constant, so the cross-entropy to q trains the same.
        NDArray logp = out.logits().div(temperature).logSoftmax(-1);
        NDArray perRow = logp.mul(Native.of(m, q, new Shape(rows.length, classes))).sum(new int[] {1}).neg();
        return perRow.mul(Native.of(m, w, new Shape(rows.length))).sum().mul(Native.scalar(m, weight * temperature * temperature / n));
    }
}
