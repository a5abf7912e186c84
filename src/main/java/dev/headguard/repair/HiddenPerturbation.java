package dev.headguard.repair;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.headguard.model.TransformerModel;
import dev.headguard.model.ModelOutput;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.Native;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Dataset;
import dev.headguard.text.Sample;
import dev.headguard.text.TokenBatch;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A universal perturbation of the hidden space: one vector δ added to every real token's hidden
 * state l, with ‖δ‖ measured in r̄ (the clean tokens' mean hidden-state norm there). Whatever the
 * trigger is (a word, a sentence, a template, a style), the backdoor carries triggered inputs to the
 * target through some direction of that space; a δ that moves clean inputs of the other classes to
 * the target is a stand-in for it that needs no trigger and no poisoned data. This is BEEAR's
 * (Zeng et al., 2024) inner step on an encoder classifier: {@link #search} grows δ_c for each class on
 * the clean set; {@link ResistanceTerm} is the outer step, a training term that makes the model keep the
 * clean labels with δ added while δ keeps climbing the loss (one normalised step per training step,
 * from the same backward pass). The search's radii alone do not tell a backdoored model from a clean
 * one (docs/results.md): it serves the repair, not the verdict.
 */
public final class HiddenPerturbation {

    /**
     * @param layerShare where δ is added: hidden state round(share · L) (0: the embeddings' output; 1/3: the
     *                   output of layer 2 of 6, 4 of 12)
     * @param stepShare  each normalised gradient step of the search moves δ by this share of r̄
     * @param steps      steps of the search; δ grows to at most steps · stepShare · r̄
     * @param flipShare  the search stops growing δ_c once this share of the other classes' inputs reach c
     * @param texts      clean texts the search uses per class (a seeded sample of the other classes' rows)
     * @param weight     β of the training term β · CE(f_δ(x), y) (0: no resistance)
     * @param ball       during training each δ_c stays within ball · ρ_c · r̄ (ρ_c: the radius the search found)
     * @param bothWays   also push the target's own rows toward the class reached next most easily (not only the
     *                   other classes' rows toward the target)
     */
    public record Settings(double layerShare, double stepShare, int steps, double flipShare, int texts, double weight, double ball,
                           boolean bothWays, long seed) {
        /**
         * β = 1, ball 1.25, toward the target only: ball 1 left a StyleBkd backdoor above its bar, a
         * ball of 2 or more removed it but cost clean accuracy (the model learns to lean away from the
         * target), and pushing both ways kept less of either (measured in docs/results.md).
         */
        public static Settings defaults(long seed) {
            return new Settings(1.0 / 3, 0.05, 24, 0.5, 64, 1.0, BALL, false, seed);
        }

        /** The radius δ is held to during training, as a multiple of the radius the search reached. */
        static final double BALL = 1.25;

        public Settings withWeight(double w) {
            return new Settings(layerShare, stepShare, steps, flipShare, texts, w, ball, bothWays, seed);
        }

        /** The hidden state δ is added to (0: the embeddings' output, l: layer l's). */
        public int layer(int layers) {
            return Math.max(0, Math.min(layers - 1, (int) Math.round(layerShare * layers)));
        }
    }

    /**
     * What the search found.
     *
     * @param layer     the hidden state δ is added to
     * @param norm      r̄, the clean tokens' mean hidden-state norm at that layer
     * @param target    the class reached with the smallest δ
     * @param radii     per class c: ‖δ_c‖ / r̄ when {@code flipShare} of the other classes' sampled inputs first
     *                  reached c (the search's largest δ where they never did); the training ball is set from it
     * @param sharp     per class c: the smallest α · radii[c] at which α · δ_c still carries {@code flipShare} of
     *                  those inputs to c (bisection on α ∈ (0, 1]): the radius at a finer resolution than the
     *                  search's steps, which chooses the target
     * @param flipRates per class c: the share of those inputs δ_c moves to c
     * @param deltas    δ_c per class
     */
    public record Found(int layer, double norm, int target, double[] radii, double[] sharp, double[] flipRates, float[][] deltas) {
        public double radius() {
            return radii[target];
        }

        /** The same search with another class taken as the target (one named by other evidence). */
        public Found withTarget(int c) {
            return new Found(layer, norm, c, radii, sharp, flipRates, deltas);
        }

        /** The share of the other classes' sampled inputs δ_target carries to the target. */
        public double flipRate() {
            return flipRates[target];
        }

        /** δ_target. */
        public float[] delta() {
            return deltas[target];
        }

        /** The class other than the target reached with the smallest δ (the target itself for one class). */
        int runnerUp() {
            int best = -1;
            for (int c = 0; c < radii.length; c++) {
                if (c != target && (best < 0 || radii[c] < radii[best])) {
                    best = c;
                }
            }
            return best < 0 ? target : best;
        }

        /**
         * The next smallest class radius over the target's: how much more easily the target is reached
         * than any other class (≫ 1 for a backdoor's target).
         */
        public double ratio() {
            double next = Double.POSITIVE_INFINITY;
            for (int c = 0; c < sharp.length; c++) {
                next = c == target ? next : Math.min(next, sharp[c]);
            }
            return next / sharp[target];
        }
    }

    private HiddenPerturbation() {}

    /**
     * Grows δ_c for every class c by normalised gradient steps toward c, from zero, until
     * {@code flipShare} of the other classes' clean inputs reach c; the target is the class reached
     * with the smallest δ.
     */
    public static Found search(ModelStore.LoadedModel m, Dataset clean, Settings s, NDManager root) {
        TransformerModel model = m.model();
        int layer = s.layer(model.config().numHiddenLayers());
        long pad = m.tokenizer().padId();
        List<long[]> ids = m.tokenizer().idsOf(clean.texts());
        double norm = meanNorm(model, Sample.of(ids, Math.max(s.texts(), 64), s.seed()), layer, pad, root);
        int classes = model.config().numLabels();
        double[] radii = new double[classes];
        double[] sharp = new double[classes];
        double[] flips = new double[classes];
        float[][] deltas = new float[classes][];
        for (int c = 0; c < classes; c++) {
            int flipTo = c;
            Grown g = grow(model, ids, rowsWhere(clean.labels(), y -> y != flipTo), layer, norm, c, s, pad, root);
            radii[c] = g.radius();
            sharp[c] = g.sharp();
            flips[c] = g.reached();
            deltas[c] = g.delta();
        }
        // The target by the sharp radii: the search's own stop in steps of 0.05 r̄ came at two steps for
        // both classes on every victim seen, and the choice between them was noise (docs/results.md).
        int best = 0;
        for (int c = 1; c < classes; c++) {
            best = sharp[c] < sharp[best] ? c : best;
        }
        return new Found(layer, norm, best, radii, sharp, flips, deltas);
    }

    /** One grown shift: its radius and sharp radius (in r̄), the share of its rows it reaches, and δ. */
    private record Grown(double radius, double sharp, double reached, float[] delta) {}

    /** The indices of the rows whose label passes {@code keep}. */
    private static List<Integer> rowsWhere(int[] labels, java.util.function.IntPredicate keep) {
        return java.util.stream.IntStream.range(0, labels.length).filter(i -> keep.test(labels[i])).boxed().toList();
    }

    /**
     * δ grown toward c on a seeded sample of {@code from} by normalised gradient steps, until
     * {@code flipShare} of the sample reaches c or the steps run out (radius ∞ when {@code from} is empty).
     */
    private static Grown grow(TransformerModel model, List<long[]> ids, List<Integer> from, int layer, double norm, int c, Settings s, long pad,
                              NDManager root) {
        float[] d = new float[model.config().hiddenSize()];
        if (from.isEmpty()) {
            return new Grown(Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, 0, d);
        }
        int[] rows = Sample.of(from, s.texts(), s.seed() + c).stream().mapToInt(Integer::intValue).toArray();
        TokenBatch batch = batchOf(ids, rows, pad);
        for (int k = 0; ; k++) {
            Toward t = toward(model, batch, layer, d, c, root);
            if (t.reached() >= s.flipShare() || k == s.steps()) {
                double radius = norm(d) / norm;
                double sharp = t.reached() >= s.flipShare() ? sharpened(model, batch, layer, d, c, s.flipShare(), root) * radius : radius;
                return new Grown(radius, sharp, t.reached(), d);
            }
            step(d, t.gradient(), -s.stepShare() * norm, Double.POSITIVE_INFINITY);
        }
    }

    /**
     * Per class y: the shift that carries y's own clean rows to the target, its radius in r̄ and the share of
     * y's sampled rows it carries there (the target's own entry: radius ∞, no shift).
     */
    public record TowardTarget(int target, double[] radii, double[] reached, float[][] deltas) {
        /** Every other class gets the pooled search's δ_target and its radius: the same as per class for two classes. */
        static TowardTarget pooled(Found f) {
            int classes = f.radii().length;
            double[] radii = new double[classes];
            double[] reached = new double[classes];
            float[][] deltas = new float[classes][];
            for (int y = 0; y < classes; y++) {
                radii[y] = y == f.target() ? Double.POSITIVE_INFINITY : f.radius();
                reached[y] = y == f.target() ? 0 : f.flipRate();
                deltas[y] = y == f.target() ? new float[f.delta().length] : f.delta().clone();
            }
            return new TowardTarget(f.target(), radii, reached, deltas);
        }

        /**
         * The smallest radius from any class: every class's shift is held within it (ball · budget). Why: a far
         * class's own radius (OffensEval texts to SST-2's negative: 0.32 r̄, the nearest 0.10) let resisting move
         * the far classes' boundary (docs/results.md).
         */
        public double budget() {
            return Arrays.stream(radii).filter(Double::isFinite).min().orElse(Double.POSITIVE_INFINITY);
        }
    }

    /**
     * The shift toward {@code f}'s target grown from each other class's rows apart. Why: with more than two
     * classes the pooled δ_target must carry half of every other class, the farthest included, so it is far
     * longer than the nearest class needs; resisting it on that class's rows taught the model to stop calling
     * the target at all (docs/results.md). With two classes the pooled search is this one (the same rows, seed
     * and steps), so it is reused.
     */
    public static TowardTarget towardTarget(ModelStore.LoadedModel m, Dataset clean, Settings s, Found f, NDManager root) {
        TransformerModel model = m.model();
        int classes = model.config().numLabels();
        if (classes <= 2) {
            return TowardTarget.pooled(f);
        }
        long pad = m.tokenizer().padId();
        List<long[]> ids = m.tokenizer().idsOf(clean.texts());
        double[] radii = new double[classes];
        double[] reached = new double[classes];
        float[][] deltas = new float[classes][];
        for (int y = 0; y < classes; y++) {
            int from = y;
            List<Integer> rows = y == f.target() ? List.of() : rowsWhere(clean.labels(), label -> label == from);
            Grown g = grow(model, ids, rows, f.layer(), f.norm(), f.target(), s, pad, root);
            radii[y] = g.radius();
            reached[y] = g.reached();
            deltas[y] = g.delta();
        }
        return new TowardTarget(f.target(), radii, reached, deltas);
    }

    /** Bisections of {@link #sharpened}: α to within 2⁻⁸ of the step it ends in. */
    static final int BISECTIONS = 8;

    /** The smallest α ∈ (0, 1] (to {@link #BISECTIONS} halvings) at which α · δ still carries {@code share} of the batch to c. */
    private static double sharpened(TransformerModel model, TokenBatch batch, int layer, float[] d, int c, double share, NDManager root) {
        double lo = 0;
        double hi = 1;
        float[] scaled = new float[d.length];
        for (int i = 0; i < BISECTIONS; i++) {
            double mid = (lo + hi) / 2;
            for (int j = 0; j < d.length; j++) {
                scaled[j] = (float) (mid * d[j]);
            }
            if (reached(model, batch, layer, scaled, c, root) >= share) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        return hi;
    }

    /** The share of the batch δ moves to c (a forward pass, no gradient). */
    private static double reached(TransformerModel model, TokenBatch batch, int layer, float[] d, int c, NDManager root) {
        try (NDScope scope = new NDScope(); NDManager m = root.newSubManager()) {
            TokenBatch.Arrays in = batch.toArrays(m);
            NDArray delta = Native.of(m, d, new Shape(d.length));
            long[] pred = model.forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), ForwardOptions.INFERENCE.withHiddenShift(layer, delta))
                    .logits().argMax(1).toLongArray();
            return Arrays.stream(pred).filter(p -> p == c).count() / (double) pred.length;
        }
    }

    /** ∂CE(f_δ(x), c)/∂δ over the batch (dropout off), and the share of the batch δ already moves to c. */
    private record Toward(float[] gradient, double reached) {}

    private static Toward toward(TransformerModel model, TokenBatch batch, int layer, float[] d, int c, NDManager root) {
        try (NDScope scope = new NDScope(); NDManager m = root.newSubManager()) {
            TokenBatch.Arrays in = batch.toArrays(m);
            NDArray delta = Native.of(m, d, new Shape(d.length));
            delta.setRequiresGradient(true);
            long[] pred;
            try (GradientCollector gc = TorchRuntime.engine().newGradientCollector()) {
                ModelOutput out = model.forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(),
                        ForwardOptions.INFERENCE.withHiddenShift(layer, delta));
                pred = out.logits().argMax(1).toLongArray();
                gc.backward(out.logits().logSoftmax(-1).get(":, " + c).neg().mean());
            }
            try (NDArray g = delta.getGradient()) {
                return new Toward(g.toFloatArray(), Arrays.stream(pred).filter(p -> p == c).count() / (double) pred.length);
            }
        }
    }

    static TokenBatch batchOf(List<long[]> ids, int[] rows, long pad) {
        List<long[]> seqs = new ArrayList<>(rows.length);
        for (int r : rows) {
            seqs.add(ids.get(r));
        }
        return TokenBatch.of(seqs, pad);
    }

    static double norm(float[] d) {
        double n = 0;
        for (float v : d) {
            n += (double) v * v;
        }
        return Math.sqrt(n);
    }

    /** d ← d + by · g/‖g‖, then back onto the ball of radius {@code max}. */
    static void step(float[] d, float[] g, double by, double max) {
        double gn = 0;
        for (float v : g) {
            gn += (double) v * v;
        }
        gn = Math.sqrt(gn);
        if (gn > 0 && Double.isFinite(gn)) {
            for (int i = 0; i < d.length; i++) {
                d[i] += (float) (by * g[i] / gn);
            }
        }
        double dn = norm(d);
        if (dn > max) {
            for (int i = 0; i < d.length; i++) {
                d[i] *= (float) (max / dn);
            }
        }
    }

    /** r̄: the mean norm of real tokens' hidden states after {@code layer}. */
    static double meanNorm(TransformerModel model, List<long[]> ids, int layer, long pad, NDManager root) {
        double sum = 0;
        long n = 0;
        for (int i = 0; i < ids.size(); i += 32) {
            TokenBatch b = TokenBatch.of(ids.subList(i, Math.min(ids.size(), i + 32)), pad);
            try (NDScope scope = new NDScope(); NDManager m = root.newSubManager()) {
                TokenBatch.Arrays in = b.toArrays(m);
                ModelOutput out = model.forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), ForwardOptions.INFERENCE.withHiddenStates());
                NDArray mask = in.attentionMask().toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
                NDArray norms = out.hiddenStates().get(layer + 1).square().sum(new int[] {2}).sqrt(); // (B, T)
                sum += norms.mul(mask).sum().getFloat();
                n += Arrays.stream(b.lengths()).sum();
            }
        }
        return sum / Math.max(1, n);
    }
}
