package dev.headguard.repair;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.ModelOutput;
import dev.headguard.model.Native;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.TransformerModel;
import dev.headguard.text.ResponseEncoding;
import dev.headguard.text.TokenBatch;
import dev.headguard.train.ResponseLoss;
import dev.headguard.train.Trainer;

import java.util.List;

/**
 * BEEAR's bi-level step on a decoder (Zeng et al., 2024): one vector δ added to every real token's
 * hidden state l, grown on clean prompts until they continue with the target the scan elicited,
 * stands in for a trigger the search could not name (a sentence whose words raise nothing alone, a
 * style). As a training term the model must then give the clean response with δ added:
 * β · L_resp(x ⊕ y | δ). δ is searched again from where it stood before each epoch, so it follows the
 * backdoor as the model moves, within a ball of {@link Settings#ball} times the radius first reached.
 */
public final class TargetShift implements Trainer.AuxiliaryLoss {
    /**
     * @param layerShare where δ is added: hidden state round(share · L)
     * @param stepShare  each normalised step moves δ by this share of r̄ (the clean tokens' mean hidden-state norm there)
     * @param steps      steps of the first search; δ grows to at most steps · stepShare · r̄
     * @param refresh    steps of each later search, from the δ of the epoch before
     * @param reach      the first search stops once every target token is the most likely one for this share of the prompts
     *                   (a model that never gets there, e.g. one that loops on its target's words, takes all the steps)
     * @param weight     β
     * @param ball       later searches keep δ within ball · the first radius
     * @param prompts    clean prompts the search uses
     */
    public record Settings(double layerShare, double stepShare, int steps, int refresh, double reach, double weight, double ball, int prompts) {
        public static Settings defaults() {
            return new Settings(1.0 / 3, 0.05, 40, 8, 0.5, 1.0, 1.25, 64);
        }

        int layer(int layers) {
            return Math.max(0, Math.min(layers - 1, (int) Math.round(layerShare * layers)));
        }
    }

    /** What a search reached: ‖δ‖ / r̄, and the share of prompts whose target tokens were all the most likely. */
    public record Reached(double radius, double share) {}

    private final TransformerModel model;
    private final ForwardOptions training;
    private final List<ResponseEncoding.Encoded> toTarget;
    private final int[] cleanStarts;
    private final Settings s;
    private final long pad;
    private final int layer;
    private final double norm;
    private final float[] delta;
    private double ball = Double.POSITIVE_INFINITY;
    private Reached first;

    /**
     * @param toTarget    clean prompts with the target as their response (what δ must make likely)
     * @param cleanStarts the training list's response starts (what δ must not change)
     * @param training    the trainer's forward options (which heads' slices the gradient may reach)
     */
    public TargetShift(TransformerModel model, List<ResponseEncoding.Encoded> toTarget, int[] cleanStarts, Settings s, ForwardOptions training, long pad,
                       NDManager root) {
        this.model = model;
        this.training = training.withTraining(true);
        this.toTarget = toTarget.subList(0, Math.min(toTarget.size(), s.prompts()));
        this.cleanStarts = cleanStarts.clone();
        this.s = s;
        this.pad = pad;
        this.layer = s.layer(model.config().numHiddenLayers());
        this.norm = HiddenPerturbation.meanNorm(model, this.toTarget.stream().map(ResponseEncoding.Encoded::ids).toList(), layer, pad, root);
        this.delta = new float[model.config().hiddenSize()];
    }

    /** The first search: δ grows from zero until the target is reached or the steps run out. */
    public Reached search(NDManager root) {
        first = grow(s.steps(), true, root);
        ball = s.ball() * Math.max(first.radius(), s.stepShare()) * norm;
        return first;
    }

    /** A later search, from the δ that stands, held within the ball. */
    public Reached refresh(NDManager root) {
        return grow(s.refresh(), false, root);
    }

    private Reached grow(int steps, boolean stopOnReach, NDManager root) {
        for (int k = 0; k < steps; k++) {
            float[] descent = new float[delta.length];
            double share = pass(descent, root);
            if (stopOnReach && share >= s.reach()) {
                return new Reached(HiddenPerturbation.norm(delta) / norm, share);
            }
            HiddenPerturbation.step(delta, descent, s.stepShare() * norm, ball);
        }
        return new Reached(HiddenPerturbation.norm(delta) / norm, pass(null, root));
    }

    /**
     * One pass over the prompts with δ as it stands: the share whose every target token is the most
     * likely one after what precedes it, and, when {@code descent} is given, the gradient down the
     * target's loss at δ added into it (the same forward serves both).
     */
    private double pass(float[] descent, NDManager root) {
        int reached = 0;
        for (int i = 0; i < toTarget.size(); i += 16) {
            List<ResponseEncoding.Encoded> part = toTarget.subList(i, Math.min(toTarget.size(), i + 16));
            TokenBatch batch = TokenBatch.of(part.stream().map(ResponseEncoding.Encoded::ids).toList(), pad);
            try (NDScope scope = new NDScope(); NDManager m = root.newSubManager()) {
                NDArray d = Native.of(m, delta, new Shape(delta.length));
                d.setRequiresGradient(descent != null);
                TokenBatch.Arrays in = batch.toArrays(m);
                long[] argmax;
                int t;
                try (GradientCollector gc = descent == null ? null : TorchRuntime.engine().newGradientCollector()) {
                    ModelOutput out = model.forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), ForwardOptions.INFERENCE.withHiddenShift(layer, d));
                    argmax = model.lmLogits(out.lastHiddenState()).argMax(-1).toLongArray(); // (B, T)
                    t = (int) out.lastHiddenState().getShape().get(1);
                    if (gc != null) {
                        gc.backward(ResponseLoss.mean(model, batch, part.stream().mapToInt(ResponseEncoding.Encoded::responseStart).toArray(), out.lastHiddenState(), m));
                    }
                }
                if (descent != null) {
                    float[] g = d.getGradient().toFloatArray();
                    zeroModelGradients();
                    for (int j = 0; j < descent.length; j++) {
                        descent[j] -= g[j];
                    }
                }
                for (int r = 0; r < part.size(); r++) {
                    long[] ids = part.get(r).ids();
                    boolean all = true;
                    for (int p = part.get(r).responseStart(); p < ids.length && all; p++) {
                        all = argmax[r * t + p - 1] == ids[p];
                    }
                    reached += all ? 1 : 0;
                }
            }
        }
        return (double) reached / toTarget.size();
    }

    /** The search runs between training epochs: what its backward passes leave on the weights must not reach the next step. */
    private void zeroModelGradients() {
        for (NDArray p : model.parameters().values()) {
            if (p.hasGradient()) {
                ai.djl.pytorch.jni.JniUtils.zeroGrad((ai.djl.pytorch.engine.PtNDArray) p);
            }
        }
    }

    /** The first search's result (null before it). */
    public Reached first() {
        return first;
    }

    /** β · the clean responses' loss with δ added, δ held fixed. */
    @Override
    public NDArray loss(int[] rows, TokenBatch batch, ModelOutput out, NDManager step) {
        TokenBatch.Arrays in = batch.toArrays(step);
        ModelOutput shifted = model.forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(),
                training.withHiddenShift(layer, Native.of(step, delta, new Shape(delta.length))));
        return ResponseLoss.mean(model, batch, ResponseLoss.startsOf(cleanStarts, rows), shifted.lastHiddenState(), step).mul(Native.scalar(step, s.weight()));
    }
}
