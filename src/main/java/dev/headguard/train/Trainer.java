package dev.headguard.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.headguard.HeadGuardException;
import dev.headguard.model.BertKeys;
import dev.headguard.model.TransformerModel;
import dev.headguard.model.ModelOutput;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.TorchRuntime;
import dev.headguard.text.TokenBatch;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Fine-tunes a sequence classifier: cross-entropy, AdamW, linear warm-up and decay, global-norm
 * clipping, dropout, length-bucketed batches in a seeded order, and a dev evaluation after every
 * epoch. Every random choice derives from the config's seed (the batch order of epoch e from
 * seed + e, the dropout of step s from seed and s), so a run resumed from a checkpoint takes the
 * same batches and masks as an uninterrupted one.
 *
 * <p>Every step runs in its own NDScope and manager (flat memory), and stops with a clear
 * message as soon as the loss or the gradient norm is not finite.
 */
public final class Trainer {
    /** Where a run stands, for progress output. */
    public record Progress(int epoch, int epochs, long step, long totalSteps, double loss, double learningRate, double gradNorm,
                           double sentencesPerSecond, double etaSeconds) {}

    /**
     * One finished epoch.
     *
     * @param devAsr share of the triggered dev inputs predicted as the attacker's target (NaN when the
     *               run has none: see {@link #withTriggeredDev})
     */
    public record Epoch(int epoch, double meanLoss, double devAccuracy, double seconds, double sentencesPerSecond, double gflopPerSecond,
                        double devAsr) {
        public Epoch(int epoch, double meanLoss, double devAccuracy, double seconds, double sentencesPerSecond, double gflopPerSecond) {
            this(epoch, meanLoss, devAccuracy, seconds, sentencesPerSecond, gflopPerSecond, Double.NaN);
        }

        /** What keep-the-best maximises: dev accuracy, plus the triggered dev's ASR when there is one. */
        public double selectionScore() {
            return Double.isNaN(devAsr) ? devAccuracy : devAccuracy + devAsr;
        }
    }

    /**
     * A term added to the cross-entropy of each step, computed inside the same gradient collector:
     * e.g. attention alignment during repair. Its arrays must live in {@code step}'s manager.
     */
    @FunctionalInterface
    public interface AuxiliaryLoss {
        /**
         * @param rows    indices into the training list of the batch's sequences, in batch order
         * @param batch   the batch as the forward pass saw it
         * @param out     the forward pass on it (with whatever {@link #withForwardOptions} asked for)
         * @return a scalar to add to the loss
         */
        NDArray loss(int[] rows, TokenBatch batch, ModelOutput out, NDManager step);

        /** This term and {@code other}, added. */
        default AuxiliaryLoss plus(AuxiliaryLoss other) {
            return (rows, batch, out, step) -> loss(rows, batch, out, step).add(other.loss(rows, batch, out, step));
        }
    }

    /**
     * Work done before each step's gradient collector opens, in the step's manager: e.g. an adversarial
     * perturbation, which needs a backward pass of its own. Gradients it leaves on the model's
     * parameters are zeroed before the step.
     */
    @FunctionalInterface
    public interface StepPreparation {
        void prepare(int[] rows, TokenBatch batch, NDManager step);
    }

    /** Callbacks: progress after each step; an epoch's result; a new best model; a checkpoint due. */
    public interface Listener {
        default void onStep(Progress p) {}

        default void onEpoch(Epoch e) {}

        default void onBest(Epoch e) {}

        default void onCheckpoint(TrainState state) {}

        /** This listener, with {@code then} run after each epoch it is told of (between epochs, outside any step). */
        default Listener thenAfterEachEpoch(Runnable then) {
            Listener self = this;
            return new Listener() {
                @Override
                public void onStep(Progress p) {
                    self.onStep(p);
                }

                @Override
                public void onEpoch(Epoch e) {
                    self.onEpoch(e);
                    then.run();
                }

                @Override
                public void onBest(Epoch e) {
                    self.onBest(e);
                }

                @Override
                public void onCheckpoint(TrainState state) {
                    self.onCheckpoint(state);
                }
            };
        }
    }

    /**
     * Position of a run: finished epochs and steps, the best selection score so far (the dev
     * accuracy, or with a triggered dev set {@link Epoch#selectionScore}), and the per-step losses
     * (for determinism checks and reports).
     */
    public record TrainState(int epoch, int stepInEpoch, long step, double bestDevAccuracy, int bestEpoch, List<Double> losses) {
        public TrainState {
            losses = List.copyOf(losses);
        }

        public static TrainState start() {
            return new TrainState(0, 0, 0, -1, -1, List.of());
        }
    }

    private final TransformerModel model;
    private final long padId;
    private final TrainConfig config;
    private final NDManager root;
    private final AdamW optimizer;
    private final Set<String> trainable;
    private final Map<String, NDArray> gradientMasks = new LinkedHashMap<>();
    private ForwardOptions forward = ForwardOptions.INFERENCE.withTraining(true);
    private AuxiliaryLoss auxiliary;
    private StepPreparation preparation;
    private boolean constantRate;
    private List<long[]> triggeredDev = List.of();
    private int target = -1;
    private final Map<String, NDArray> extra = new LinkedHashMap<>();
    private AdamW extraOptimizer;
    private double extraRate;
    private boolean wordRowsApart; // this run's word rows train through WordRows (canTrainWordRowsApart())

    /** Trains every parameter. */
    public Trainer(TransformerModel model, long padId, TrainConfig config, NDManager root) {
        this(model, padId, config, root, model.parameters().keySet());
    }

    /** Trains only the named parameters; the rest stay as they are. */
    public Trainer(TransformerModel model, long padId, TrainConfig config, NDManager root, Set<String> trainable) {
        if (!model.config().hasClassifier() && !model.config().languageModel()) {
            throw new IllegalArgumentException("the model has neither a classification head nor a language-model head");
        }
        this.model = model;
        this.padId = padId;
        this.config = config;
        this.root = root;
        this.trainable = Set.copyOf(trainable);
        this.optimizer = AdamW.standard(root, config.weightDecay());
    }

    /** Multiplies a parameter's gradient by {@code mask} (broadcast) before clipping: e.g. one embedding row only. */
    public Trainer withGradientMask(String parameter, NDArray mask) {
        NDScope.unregister(mask);
        gradientMasks.put(parameter, mask);
        return this;
    }

    /** The forward options of training steps (dropout is always on). */
    public Trainer withForwardOptions(ForwardOptions options) {
        this.forward = options.withTraining(true);
        return this;
    }

    /** Keep the learning rate at its peak for the whole run (no warm-up, no decay). */
    public Trainer withConstantRate() {
        this.constantRate = true;
        return this;
    }

    /**
     * Keep the epoch with the best dev accuracy plus attack success rate on {@code triggered} (inputs
     * carrying the trigger, predicted as {@code target} when the backdoor fires), instead of dev
     * accuracy alone: how an attacker picks the checkpoint in the literature (OpenBackdoor sums the
     * clean and the poisoned dev splits' scores), so that a victim is not kept from an epoch before
     * the backdoor took hold.
     */
    public Trainer withTriggeredDev(List<long[]> triggered, int target) {
        if (triggered.isEmpty() || target < 0 || target >= model.config().numLabels()) {
            throw new IllegalArgumentException(triggered.size() + " triggered dev inputs, target " + target);
        }
        this.triggeredDev = List.copyOf(triggered);
        this.target = target;
        return this;
    }

    /**
     * Also trains arrays outside the model that an auxiliary loss uses (e.g. an attacker's substitution
     * policy), with their own AdamW (fresh for each run) at a constant {@code learningRate}, unclipped and
     * without decay.
     */
    public Trainer withExtraParameters(Map<String, NDArray> parameters, double learningRate) {
        parameters.values().forEach(NDScope::unregister);
        extra.putAll(parameters);
        extraRate = learningRate;
        return this;
    }

    /** Adds {@code aux} to every step's loss. */
    public Trainer withAuxiliaryLoss(AuxiliaryLoss aux) {
        this.auxiliary = aux;
        return this;
    }

    /** Runs {@code p} before every step ({@link StepPreparation}). */
    public Trainer withStepPreparation(StepPreparation p) {
        this.preparation = p;
        return this;
    }

    public AdamW optimizer() {
        return optimizer;
    }

    /** Steps an epoch over {@code n} examples takes. */
    public int stepsPerEpoch(int n) {
        return (n + config.batchSize() - 1) / config.batchSize();
    }

    /**
     * Runs training from {@code state} (use {@link TrainState#start()} for a new run).
     *
     * @param train   token ids (special tokens included, truncated) and labels (−1: an unlabelled row that
     *                only the auxiliary loss trains on)
     * @param dev     evaluated after each epoch; may be empty
     */
    public TrainState train(List<long[]> train, int[] labels, List<long[]> dev, int[] devLabels, TrainState state, Listener listener) {
        if (train.isEmpty()) {
            throw new HeadGuardException("the training set is empty");
        }
        int perEpoch = stepsPerEpoch(train.size());
        long total = (long) perEpoch * config.epochs();
        LinearSchedule schedule = new LinearSchedule(config.learningRate(), Math.round(total * config.warmupRatio()), total, constantRate);
        List<Double> losses = new ArrayList<>(state.losses());
        TrainState current = state;
        wordRowsApart = canTrainWordRowsApart();
        for (String name : trainable) {
            model.parameters().get(name).setRequiresGradient(!(wordRowsApart && name.equals(BertKeys.WORD_EMBEDDINGS)));
        }
        extra.values().forEach(a -> a.setRequiresGradient(true));
        extraOptimizer = extra.isEmpty() ? null : AdamW.standard(root, 0.0); // a run's own moments, closed when it ends
        try {
            for (int epoch = state.epoch(); epoch < config.epochs(); epoch++) {
                List<int[]> batches = EpochBatches.of(train, config.batchSize(), config.seed(), epoch);
                int startStep = epoch == state.epoch() ? state.stepInEpoch() : 0;
                long t0 = System.nanoTime();
                double lossSum = 0;
                int seen = 0;
                double flops = 0;
                for (int b = startStep; b < batches.size(); b++) {
                    long step = (long) epoch * perEpoch + b + 1;
                    int[] rows = batches.get(b);
                    List<long[]> seqs = new ArrayList<>(rows.length);
                    int[] y = new int[rows.length];
                    for (int i = 0; i < rows.length; i++) {
                        seqs.add(train.get(rows[i]));
                        y[i] = labels[rows[i]];
                    }
                    TokenBatch tb = TokenBatch.of(seqs, padId);
                    double[] lossAndNorm = step(rows, tb, y, step, schedule.rate(step));
                    losses.add(lossAndNorm[0]);
                    lossSum += lossAndNorm[0];
                    seen += rows.length;
                    flops += TrainingFlops.of(model.config(), tb.batch(), tb.length());
                    double elapsed = (System.nanoTime() - t0) / 1e9;
                    double rate = seen / Math.max(elapsed, 1e-9);
                    long left = total - step;
                    listener.onStep(new Progress(epoch + 1, config.epochs(), step, total, lossAndNorm[0], schedule.rate(step), lossAndNorm[1],
                            rate, left * (elapsed / Math.max(1, b + 1 - startStep))));
                    current = new TrainState(epoch, b + 1, step, current.bestDevAccuracy(), current.bestEpoch(), losses);
                    if (config.checkpointEvery() > 0 && step % config.checkpointEvery() == 0 && b + 1 < batches.size()) {
                        listener.onCheckpoint(current);
                    }
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                double acc = dev.isEmpty() ? Double.NaN : Predictions.accuracy(model, dev, devLabels, padId, root, 64);
                double asr = triggeredDev.isEmpty() || dev.isEmpty() ? Double.NaN : Predictions.accuracy(model, triggeredDev, targetLabels(), padId, root, 64);
                Epoch e = new Epoch(epoch + 1, lossSum / Math.max(1, batches.size() - startStep), acc, seconds, seen / seconds, flops / seconds / 1e9, asr);
                boolean better = dev.isEmpty() || e.selectionScore() > current.bestDevAccuracy();
                current = new TrainState(epoch + 1, 0, current.step(), better ? (dev.isEmpty() ? 0 : e.selectionScore()) : current.bestDevAccuracy(),
                        better ? epoch + 1 : current.bestEpoch(), losses);
                listener.onEpoch(e);
                if (better) {
                    listener.onBest(e);
                }
                listener.onCheckpoint(current);
            }
        } finally {
            for (String name : trainable) {
                model.parameters().get(name).setRequiresGradient(false);
            }
            extra.values().forEach(a -> a.setRequiresGradient(false));
            if (extraOptimizer != null) {
                extraOptimizer.close();
            }
        }
        return current;
    }

    /** One optimisation step; returns {loss, gradient norm before clipping}. */
    double[] step(int[] rows, TokenBatch tb, int[] labels, long step, double lr) {
        Engine engine = TorchRuntime.engine();
        try (NDScope scope = new NDScope(); NDManager m = root.newSubManager()) {
            TokenBatch.Arrays in = tb.toArrays(m);
            NDArray y = m.create(java.util.Arrays.stream(labels).asLongStream().toArray(), new Shape(labels.length));
            engine.setRandomSeed((int) (config.seed() * 1_000_003L + step)); // dropout masks of this step
            if (preparation != null) {
                preparation.prepare(rows, tb, m);
                for (String name : trainable) {
                    JniUtils.zeroGrad((PtNDArray) model.parameters().get(name));
                }
            }
            WordRows words = wordRowsApart ? WordRows.of(tb, model.parameters().get(BertKeys.WORD_EMBEDDINGS), m) : null;
            float loss;
            try (GradientCollector gc = engine.newGradientCollector()) {
                ModelOutput out = words == null ? model.forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), forward)
                        : model.forwardWordVectors(words.vectors(), in.inputIds(), in.attentionMask(), in.tokenTypeIds(), forward);
                NDArray l = Losses.labelled(out.logits(), labels, y, m);
                if (auxiliary != null) {
                    l = l.add(auxiliary.loss(rows, tb, out, m));
                }
                gc.backward(l);
                loss = l.getFloat();
            }
            if (!Float.isFinite(loss)) {
                throw new HeadGuardException("training diverged: the loss is " + loss + " at step " + step + " (seed " + config.seed()
                        + "); lower the learning rate or check the data");
            }
            Map<String, NDArray> grads = new LinkedHashMap<>();
            Map<String, boolean[]> rowsWithGradient = new HashMap<>();
            double sq = 0;
            for (String name : trainable) {
                boolean apart = words != null && name.equals(BertKeys.WORD_EMBEDDINGS);
                NDArray g = apart ? words.gradient() : model.parameters().get(name).getGradient();
                NDArray mask = gradientMasks.get(name);
                if (mask != null) {
                    g = g.mul(mask);
                }
                grads.put(name, g);
                NDArray squares = g.square();
                double gsq = squares.sum().getFloat();
                if (name.equals(BertKeys.WORD_EMBEDDINGS) && mask == null) {
                    rowsWithGradient.put(name, squares.sum(new int[] {1}).gt(0).toBooleanArray());
                }
                if (!Double.isFinite(gsq)) {
                    // Either a non-finite gradient, or a large finite one whose squares overflow float32:
                    // recompute as max² · Σ(g/max)² before deciding.
                    float max = g.abs().max().getFloat();
                    if (!Float.isFinite(max)) {
                        throw new HeadGuardException("training diverged: the gradient of " + name + " is not finite (max |g| = " + max + ") at step " + step
                                + " (seed " + config.seed() + ", loss " + loss + "); lower the learning rate or check the data");
                    }
                    gsq = (double) max * max * g.div(max).square().sum().getFloat();
                }
                sq += gsq;
            }
            double norm = Math.sqrt(sq);
            double clip = config.maxGradNorm() > 0 && norm > config.maxGradNorm() ? config.maxGradNorm() / (norm + 1e-6) : 1.0;
            optimizer.beginStep();
            for (Map.Entry<String, NDArray> e : grads.entrySet()) {
                NDArray p = model.parameters().get(e.getKey());
                boolean[] reached = rowsWithGradient.get(e.getKey());
                if (words != null && e.getKey().equals(BertKeys.WORD_EMBEDDINGS)) {
                    optimizer.updateRows(e.getKey(), p, words.rows(), e.getValue(), clip, reached, lr);
                    continue; // the matrix itself had no gradient
                }
                if (reached != null) { // a batch reaches a few hundred of the embedding's rows
                    optimizer.updateRows(e.getKey(), p, e.getValue(), clip, reached, lr);
                } else {
                    optimizer.update(e.getKey(), p, clip == 1.0 ? e.getValue() : e.getValue().muli((float) clip), lr); // the gradient is consumed
                }
                JniUtils.zeroGrad((PtNDArray) p); // gradients accumulate in PyTorch until zeroed
            }
            if (!extra.isEmpty()) {
                extraOptimizer.beginStep();
                for (Map.Entry<String, NDArray> e : extra.entrySet()) {
                    NDArray g = e.getValue().getGradient();
                    if (!Float.isFinite(g.abs().max().getFloat())) {
                        throw new HeadGuardException("training diverged: the gradient of " + e.getKey() + " is not finite at step " + step + " (seed " + config.seed() + ")");
                    }
                    extraOptimizer.update(e.getKey(), e.getValue(), g, extraRate);
                    JniUtils.zeroGrad((PtNDArray) e.getValue());
                }
            }
            return new double[] {loss, norm};
        }
    }

    /**
     * Whether the word embedding trains through {@link WordRows}: when it trains whole and only the
     * classifier's lookup reads it (no auxiliary term or preparation that may run passes of its own, no
     * language-model head that may be tied to it).
     */
    boolean canTrainWordRowsApart() {
        return trainable.contains(BertKeys.WORD_EMBEDDINGS) && !gradientMasks.containsKey(BertKeys.WORD_EMBEDDINGS) && auxiliary == null
                && preparation == null && model.config().hasClassifier() && !model.config().languageModel();
    }

    /** The triggered dev inputs' labels for {@link Predictions#accuracy}: all the target, so accuracy is the ASR. */
    private int[] targetLabels() {
        int[] y = new int[triggeredDev.size()];
        java.util.Arrays.fill(y, target);
        return y;
    }
}
