package dev.headguard.repair;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.ModelOutput;
import dev.headguard.model.Native;
import dev.headguard.model.TransformerModel;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.TokenBatch;
import dev.headguard.train.Trainer;

import java.util.Arrays;

/**
 * The outer step, as a training term: in a second forward pass every labelled row x of a class y other
 * than the target gets δ_y, the shift that carries class y to the target ({@link HiddenPerturbation.TowardTarget}; with
 * {@code bothWays}, the target's own rows get the pooled shift toward the class reached next most easily),
 * and the term is β · CE(f_δ(x), y) over those rows. After each backward pass every δ takes one normalised
 * step up that loss (read from the gradient the same pass left on it) and is projected back onto its ball,
 * of radius ball · ρ · r̄ ({@link HiddenPerturbation.Settings}), ρ the smallest radius from any class ({@link HiddenPerturbation.TowardTarget#budget}).
 */
public final class ResistanceTerm implements Trainer.AuxiliaryLoss, AutoCloseable {
    private final TransformerModel model;
    private final int[] labels;
    private final int layer;
    private final double norm;
    private final HiddenPerturbation.Settings settings;
    private final ForwardOptions options;
    private final NDManager own;
    private final float[][] d;    // per class y: the shift its rows get
    private final double[] balls; // per class y: the radius δ_y is held within (∞ or none: the rows get no shift)
    private final int target;
    private NDArray delta; // (C, E), the leaf whose gradient the next step reads

    /** Every other class resists the pooled search's δ_target ({@link HiddenPerturbation.TowardTarget#pooled}). */
    public ResistanceTerm(ModelStore.LoadedModel m, int[] labels, HiddenPerturbation.Found found, HiddenPerturbation.Settings settings, ForwardOptions options, NDManager root) {
        this(m, labels, found, HiddenPerturbation.TowardTarget.pooled(found), settings, options, root);
    }

    /**
     * @param labels  the training list's labels (−1: unlabelled, left out)
     * @param toward  per class, the shift toward {@code found}'s target its rows resist
     * @param options the trainer's forward options (dropout, trainable heads)
     */
    public ResistanceTerm(ModelStore.LoadedModel m, int[] labels, HiddenPerturbation.Found found, HiddenPerturbation.TowardTarget toward, HiddenPerturbation.Settings settings, ForwardOptions options,
                      NDManager root) {
        this.model = m.model();
        this.labels = labels.clone();
        this.layer = found.layer();
        this.norm = found.norm();
        this.settings = settings;
        this.options = options;
        this.own = root.newSubManager();
        this.target = found.target();
        int classes = found.deltas().length;
        this.d = new float[classes][];
        this.balls = new double[classes];
        for (int y = 0; y < classes; y++) {
            boolean back = y == target && settings.bothWays() && found.runnerUp() != y;
            d[y] = (back ? found.deltas()[found.runnerUp()] : toward.deltas()[y]).clone();
            double radius = y != target ? Double.isFinite(toward.radii()[y]) ? toward.budget() : Double.POSITIVE_INFINITY
                    : back ? found.radii()[found.runnerUp()] : Double.POSITIVE_INFINITY;
            balls[y] = settings.ball() * radius * norm;
            HiddenPerturbation.step(d[y], new float[d[y].length], 0, balls[y]); // onto its ball: a far class's own shift is longer
        }
    }

    /** The shift the first class other than the target resists, as it stands. */
    public float[] delta() {
        return delta(target == 0 && d.length > 1 ? 1 : 0);
    }

    /** The shift rows of class y resist, as it stands. */
    public float[] delta(int y) {
        return d[y].clone();
    }

    /** Whether rows of class y get a shift (an infinite radius: no clean input of that class to search on). */
    private boolean shifted(int y) {
        return y >= 0 && Double.isFinite(balls[y]);
    }

    @Override
    public NDArray loss(int[] rows, TokenBatch batch, ModelOutput out, NDManager step) {
        int classes = d.length;
        int width = d[0].length;
        if (delta != null) {
            try (NDArray g = delta.getGradient()) {
                float[] all = g.toFloatArray();
                for (int c = 0; c < classes; c++) {
                    if (Double.isFinite(balls[c])) {
                        HiddenPerturbation.step(d[c], Arrays.copyOfRange(all, c * width, (c + 1) * width), settings.stepShare() * norm, balls[c]);
                    }
                }
            }
            delta.close();
            delta = null;
        }
        float[] w = new float[rows.length];
        float[] pick = new float[rows.length * classes];
        int n = 0;
        for (int i = 0; i < rows.length; i++) {
            int y = labels[rows[i]];
            if (shifted(y)) {
                w[i] = 1f;
                pick[i * classes + y] = 1f;
                n++;
            }
        }
        if (n == 0) {
            return step.zeros(new Shape());
        }
        float[] flat = new float[classes * width];
        for (int c = 0; c < classes; c++) {
            System.arraycopy(d[c], 0, flat, c * width, width);
        }
        delta = Native.of(own, flat, new Shape(classes, width));
        NDScope.unregister(delta); // read after the trainer's step scope has closed: its gradient is the next step's ascent
        delta.setRequiresGradient(true);
        NDArray shift = Native.of(step, pick, new Shape(rows.length, classes)).matMul(delta); // (B, E): each row's δ
        long[] safe = new long[rows.length];
        for (int i = 0; i < rows.length; i++) {
            safe[i] = Math.max(0, labels[rows[i]]);
        }
        TokenBatch.Arrays in = batch.toArrays(step);
        ModelOutput shifted = model.forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), options.withHiddenShift(layer, shift));
        NDArray perRow = shifted.logits().logSoftmax(-1).mul(Native.of(step, safe, new Shape(rows.length)).oneHot(classes)).sum(new int[] {1}).neg();
        return perRow.mul(Native.of(step, w, new Shape(rows.length))).sum().mul(Native.scalar(step, settings.weight() / n));
    }

    @Override
    public void close() {
        own.close();
    }
}
