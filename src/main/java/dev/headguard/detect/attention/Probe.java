package dev.headguard.detect.attention;


import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.headguard.inference.BatchRunner;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.io.ModelStore;

import java.util.List;

/**
 * One pass of a model over texts that keeps what the scans need: each text's head-statistics
 * vector and its class probabilities. Batches are grouped by length and run in flat memory.
 */
public final class Probe {

    /** Listener for long passes: called after each batch with texts done and total. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (done, total) -> {};

        void update(int done, int total);
    }

    /**
     * @param features one vector per text, in input order ({@link AttentionFeatures#names()})
     * @param probabilities softmax of the logits, per text
     */
    public record Result(float[][] features, float[][] probabilities) {
        public int size() {
            return features.length;
        }

        /** The same texts with only the given feature columns (a subset of families). */
        public Result select(int[] columns) {
            float[][] f = new float[features.length][columns.length];
            for (int i = 0; i < f.length; i++) {
                for (int k = 0; k < columns.length; k++) {
                    f[i][k] = features[i][columns[k]];
                }
            }
            return new Result(f, probabilities);
        }

        /** Predicted class per text. */
        public int[] predictions() {
            return argMax(probabilities);
        }
    }

    /** The predicted class of each row of probabilities ({@link #argMax(float[])} per row). */
    public static int[] argMax(float[][] p) {
        int[] out = new int[p.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = argMax(p[i]);
        }
        return out;
    }

    /** The index of the largest value (the first on ties). */
    public static int argMax(float[] p) {
        int best = 0;
        for (int c = 1; c < p.length; c++) {
            if (p[c] > p[best]) {
                best = c;
            }
        }
        return best;
    }

    private Probe() {}

    public static Result run(ModelStore.LoadedModel model, List<String> texts, AttentionFeatures features, NDManager root, int batchSize,
                             Progress progress) {
        return pass(model, texts, features, root, batchSize, progress);
    }

    /** Class probabilities only (no attention maps): the cheap pass perturbation baselines need. */
    public static float[][] probabilities(ModelStore.LoadedModel model, List<String> texts, NDManager root, int batchSize, Progress progress) {
        return pass(model, texts, null, root, batchSize, progress).probabilities();
    }

    /**
     * A decoder language model's next-token entropy at each prompt's end, H(p(· | x)) in nats: what its
     * continuation would be, and how sure it is of it. A cheap pass (no attention maps).
     */
    public static double[] nextTokenEntropies(ModelStore.LoadedModel model, List<String> texts, NDManager root, int batchSize, Progress progress) {
        if (!model.model().config().family().decoder || !model.model().config().languageModel()) {
            throw new IllegalArgumentException(model.directory() + ": next-token entropies need a decoder with a language-model head");
        }
        double[] out = new double[texts.size()];
        int[] done = {0};
        new BatchRunner(model, root, batchSize).run(texts, ForwardOptions.INFERENCE, true, (rows, tokens, in, o) -> {
            NDArray last = model.model().sentenceStates(o.lastHiddenState(), in.attentionMask());                 // (B, E)
            NDArray logp = model.model().lmLogits(last).logSoftmax(-1);                                           // (B, V)
            float[] h = logp.exp().mul(logp).sum(new int[] {1}).neg().toFloatArray();
            for (int i = 0; i < rows.length; i++) {
                out[rows[i]] = h[i];
            }
            done[0] += rows.length;
            progress.update(done[0], texts.size());
        });
        return out;
    }

    /**
     * The same pass, also keeping every layer's [CLS] hidden state: {@code cls[l][i]} is text i's
     * vector after layer l (0 = the embeddings), what {@code HiddenStateScan} scores. One pass serves
     * both scans of a suspect set.
     */
    public record WithStates(Result result, float[][][] cls) {}

    public static WithStates runWithStates(ModelStore.LoadedModel model, List<String> texts, AttentionFeatures features, NDManager root,
                                           int batchSize, Progress progress) {
        return runWithStates(model, texts, features, root, batchSize, BatchRunner.Grouping.BY_LENGTH, progress);
    }

    /**
     * The inputs' pass of a per-input scan: batches of one token length ({@link BatchRunner.Grouping#SAME_LENGTH}),
     * so that each text scores as it would among any other texts (a corpus split over Spark tasks
     * scores as it does in one process). With hidden states when {@code states}.
     */
    public static WithStates runEachAlone(ModelStore.LoadedModel model, List<String> texts, AttentionFeatures features, boolean states, NDManager root,
                                          int batchSize, Progress progress) {
        if (states) {
            return runWithStates(model, texts, features, root, batchSize, BatchRunner.Grouping.SAME_LENGTH, progress);
        }
        return new WithStates(pass(model, texts, features, null, root, batchSize, BatchRunner.Grouping.SAME_LENGTH, progress), null);
    }

    private static WithStates runWithStates(ModelStore.LoadedModel model, List<String> texts, AttentionFeatures features, NDManager root,
                                            int batchSize, BatchRunner.Grouping grouping, Progress progress) {
        float[][][] cls = new float[model.model().config().numHiddenLayers() + 1][texts.size()][];
        return new WithStates(pass(model, texts, features, cls, root, batchSize, grouping, progress), cls);
    }

    private static Result pass(ModelStore.LoadedModel model, List<String> texts, AttentionFeatures features, NDManager root, int batchSize,
                               Progress progress) {
        return pass(model, texts, features, null, root, batchSize, BatchRunner.Grouping.BY_LENGTH, progress);
    }

    /** One pass; attention maps are computed only when there are features to take from them, hidden states only when {@code cls} is given. */
    private static Result pass(ModelStore.LoadedModel model, List<String> texts, AttentionFeatures features, float[][][] cls, NDManager root,
                               int batchSize, BatchRunner.Grouping grouping, Progress progress) {
        float[][] f = new float[texts.size()][];
        float[][] p = new float[texts.size()][];
        int[] done = {0};
        ForwardOptions options = features == null ? ForwardOptions.INFERENCE : ForwardOptions.INFERENCE.withAttentions();
        options = cls == null ? options : options.withHiddenStates();
        new BatchRunner(model, root, batchSize).run(texts, options, grouping, (rows, tokens, in, out) -> {
            if (cls != null) {
                for (int l = 0; l < cls.length; l++) {
                    NDArray h = model.model().sentenceStates(out.hiddenStates().get(l), in.attentionMask()); // (B, E): [CLS], or a decoder's last token
                    int e = (int) h.getShape().get(1);
                    float[] v = h.toFloatArray();
                    for (int i = 0; i < rows.length; i++) {
                        cls[l][rows[i]] = java.util.Arrays.copyOfRange(v, i * e, (i + 1) * e);
                    }
                }
            }
            float[][] v = features == null ? null : features.of(out, tokens.lengths());
            // A decoder language model has no classes: every prompt is of one kind, its continuation.
            float[] probs = out.logits() == null ? ones(rows.length) : out.logits().softmax(-1).toFloatArray();
            int c = probs.length / rows.length;
            for (int i = 0; i < rows.length; i++) {
                f[rows[i]] = v == null ? new float[0] : v[i];
                p[rows[i]] = java.util.Arrays.copyOfRange(probs, i * c, (i + 1) * c);
            }
            done[0] += rows.length;
            progress.update(done[0], texts.size());
        });
        return new Result(f, p);
    }

    private static float[] ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return v;
    }
}
