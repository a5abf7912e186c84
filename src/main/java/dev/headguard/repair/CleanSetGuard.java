package dev.headguard.repair;

import dev.headguard.train.Predictions;
import ai.djl.ndarray.NDManager;
import dev.headguard.model.HostTensor;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Dataset;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Undoes a training stage that cost the clean set it trained on: the weights and the per-class
 * recalls on that set are taken before the stage; after it, if balanced accuracy (the mean of the
 * recalls) fell more than {@code maxLoss}, the weights are put back. Measured on the training rows
 * themselves, it needs no held-out split: it catches a stage whose extra term the clean
 * cross-entropy could not hold in check, not overfitting.
 */
public final class CleanSetGuard {
    /**
     * The resisting stage is undone when it costs more than this share of balanced accuracy (the mean
     * of the classes' recalls) on the clean set it trained on. Why: resisting the push toward the
     * target can be bought by leaning away from it. Some lean is the point (the victim's own lean
     * toward its target goes with it), but when the clean set is too small for its cross-entropy to
     * hold the classes apart the lean is all there is (docs/results.md).
     */
    public static final double MAX_LOSS = 0.03;

    /** What the guard decided: the recalls per class before and after the stage, and whether it was kept. */
    public record Outcome(double[] before, double[] after, boolean kept) {
        public double loss() {
            return balancedAccuracy(before) - balancedAccuracy(after);
        }
    }

    private final ModelStore.LoadedModel model;
    private final List<long[]> ids;
    private final int[] labels;
    private final Map<String, HostTensor> weights;
    private final double[] before;

    private CleanSetGuard(ModelStore.LoadedModel model, List<long[]> ids, int[] labels, NDManager root) {
        this.model = model;
        this.ids = ids;
        this.labels = labels.clone();
        this.weights = model.model().toHostTensors();
        this.before = recalls(model, ids, labels, root);
    }

    /** Takes the model's weights and its recalls on {@code clean} (a copy of the weights in Java memory). */
    public static CleanSetGuard before(ModelStore.LoadedModel model, Dataset clean, NDManager root) {
        return new CleanSetGuard(model, model.tokenizer().idsOf(clean.texts()), clean.labels(), root);
    }

    /** The clean texts' token ids (the stage may train on them). */
    public List<long[]> ids() {
        return ids;
    }

    /** Measures the stage's model; restores the weights taken before it when it lost more than {@code maxLoss}. */
    public Outcome after(double maxLoss, NDManager root) {
        double[] now = recalls(model, ids, labels, root);
        boolean kept = !(balancedAccuracy(before) - balancedAccuracy(now) > maxLoss);
        if (!kept) {
            model.model().loadWeights(weights);
        }
        return new Outcome(before.clone(), now, kept);
    }

    /** The mean of the classes' recalls, over the classes present. */
    public static double balancedAccuracy(double[] recalls) {
        return Arrays.stream(recalls).filter(r -> !Double.isNaN(r)).average().orElse(Double.NaN);
    }

    /** Per class: the share of the rows of that class the model calls it (NaN for a class without rows). */
    public static double[] recalls(ModelStore.LoadedModel m, List<long[]> ids, int[] labels, NDManager root) {
        int[] pred = Predictions.predict(m.model(), ids, m.tokenizer().padId(), root, 64);
        int classes = m.model().config().numLabels();
        double[] hit = new double[classes];
        double[] all = new double[classes];
        for (int i = 0; i < labels.length; i++) {
            all[labels[i]]++;
            hit[labels[i]] += pred[i] == labels[i] ? 1 : 0;
        }
        double[] out = new double[classes];
        for (int c = 0; c < classes; c++) {
            out[c] = all[c] == 0 ? Double.NaN : hit[c] / all[c];
        }
        return out;
    }
}
