package dev.headguard.detect.baseline;

import dev.headguard.detect.attention.Probe;
import dev.headguard.detect.search.Gradients;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.model.Native;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.TokenBatch;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * RAP, robustness-aware perturbations (Yang et al., EMNLP 2021), as a baseline. The defender
 * protects one label. A rare word's embedding (the "RAP trigger") is trained so that putting the
 * word in front of a clean input of that label lowers the label's probability by a margin in
 * [lower, upper]; a backdoor trigger holds the prediction so firmly that the same word barely
 * moves it. Score of an input predicted as the protected label = −(p(x) − p(rap + x)): higher is
 * more suspicious; inputs predicted as another label are not the attack's concern and get the
 * lowest score.
 *
 * <p>The trained row lives only in memory and is restored by {@link #close()}.
 */
public final class Rap implements AutoCloseable {

    /** Below every real score (−δ ≥ −1): inputs RAP lets through without a test. */
    public static final double PASSED = -2;

    /**
     * @param word   the RAP trigger: a rare word that is one token
     * @param target the protected label
     */
    public record Settings(String word, int target, double lower, double upper, int epochs, double learningRate, int batchSize, long seed) {
        public static Settings defaults(int target) {
            return new Settings("jj", target, 0.1, 0.3, 5, 0.05, 16, 42);
        }
    }

    private final ModelStore.LoadedModel model;
    private final NDManager root;
    private final Settings settings;
    private final long id;
    private final float[] original;
    private int skipped;

    private Rap(ModelStore.LoadedModel model, NDManager root, Settings settings, long id, float[] original) {
        this.model = model;
        this.root = root;
        this.settings = settings;
        this.id = id;
        this.original = original;
    }

    /** Trains the RAP word on clean texts of the protected label (those the model also predicts as it). */
    public static Rap train(ModelStore.LoadedModel model, List<String> clean, int[] labels, Settings settings, NDManager root) {
        long[] ids = model.tokenizer().ids(settings.word());
        if (ids.length != 3) {
            throw new HeadGuardException("the RAP word must be one token; '" + settings.word() + "' is " + (ids.length - 2));
        }
        float[][] p = Probe.probabilities(model, clean, root, 64, Probe.Progress.NONE);
        List<Integer> keep = new ArrayList<>();
        for (int i = 0; i < clean.size(); i++) {
            if (labels[i] == settings.target() && Probe.argMax(p[i]) == settings.target()) {
                keep.add(i);
            }
        }
        if (keep.size() < 4) {
            throw new HeadGuardException("RAP needs clean texts of the protected label " + settings.target() + " that the model gets right; found " + keep.size());
        }
        Rap rap = new Rap(model, root, settings, ids[1], Gradients.embeddingRowValue(model.model(), ids[1]));
        float[] row = rap.original.clone();
        float[] m1 = new float[row.length];
        float[] m2 = new float[row.length];
        Random rng = new Random(settings.seed());
        int step = 0;
        for (int epoch = 0; epoch < settings.epochs(); epoch++) {
            Collections.shuffle(keep, rng);
            for (int from = 0; from < keep.size(); from += settings.batchSize()) {
                List<Integer> rows = keep.subList(from, Math.min(keep.size(), from + settings.batchSize()));
                List<long[]> seqs = new ArrayList<>();
                float[] p0 = new float[rows.size()];
                for (int k = 0; k < rows.size(); k++) {
                    seqs.add(model.tokenizer().ids(rap.perturbed(clean.get(rows.get(k)))));
                    p0[k] = p[rows.get(k)][settings.target()];
                }
                TokenBatch tb = TokenBatch.of(seqs, model.tokenizer().padId());
                float[] g = Gradients.embeddingRow(model.model(), tb, rap.id, logits -> {
                    ai.djl.ndarray.NDManager lm = logits.getManager();
                    NDArray drop = Native.of(lm, p0, new ai.djl.ndarray.types.Shape(p0.length))
                            .sub(logits.softmax(-1).get(":, " + settings.target()));                  // δ = p(x) − p(rap + x)
                    NDArray zero = Native.scalar(lm, 0);                                           // constants PyTorch owns (see Native)
                    return Native.scalar(lm, settings.lower()).sub(drop).maximum(zero)
                            .add(drop.sub(Native.scalar(lm, settings.upper())).maximum(zero)).mean();
                }, root);
                if (!finite(g)) {
                    rap.skipped++; // a non-finite gradient must not reach the row: skip the step, report the count
                    continue;
                }
                step++;
                // Adam on the one row (β1 0.9, β2 0.999).
                for (int j = 0; j < row.length; j++) {
                    m1[j] = 0.9f * m1[j] + 0.1f * g[j];
                    m2[j] = 0.999f * m2[j] + 0.001f * g[j] * g[j];
                    double mh = m1[j] / (1 - Math.pow(0.9, step));
                    double vh = m2[j] / (1 - Math.pow(0.999, step));
                    row[j] -= (float) (settings.learningRate() * mh / (Math.sqrt(vh) + 1e-8));
                }
                Gradients.setEmbeddingRow(model.model(), rap.id, row, root);
            }
        }
        if (step == 0) {
            throw new HeadGuardException("RAP: every training step had a non-finite gradient (" + rap.skipped + " steps)");
        }
        return rap;
    }

    /** Training steps skipped because their gradient was not finite. */
    public int skippedSteps() {
        return skipped;
    }

    private static boolean finite(float[] g) {
        for (float v : g) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    String perturbed(String text) {
        return settings.word() + " " + text.strip();
    }

    /** −δ per text (higher: more suspicious), {@link #PASSED} for texts predicted as another label. */
    public double[] scores(List<String> texts, int batchSize, Probe.Progress progress) {
        float[][] before = Probe.probabilities(model, texts, root, batchSize, (d, t) -> progress.update(d / 2, t));
        List<String> moved = new ArrayList<>(texts.size());
        for (String t : texts) {
            moved.add(perturbed(t));
        }
        float[][] after = Probe.probabilities(model, moved, root, batchSize, (d, t) -> progress.update(t / 2 + d / 2, t));
        double[] out = new double[texts.size()];
        int c = settings.target();
        for (int i = 0; i < out.length; i++) {
            out[i] = Probe.argMax(before[i]) == c ? -(before[i][c] - after[i][c]) : PASSED;
        }
        return out;
    }

    /** Puts the RAP word's original embedding back. */
    @Override
    public void close() {
        Gradients.setEmbeddingRow(model.model(), id, original, root);
    }
}
