package dev.headguard.detect.hidden;

import dev.headguard.detect.attention.CleanProfile;
import dev.headguard.detect.attention.InputScanner;
import dev.headguard.detect.attention.Probe;

import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.model.io.ModelStore;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Finds the poisoned share of a suspect set (a training set, logged traffic) by where the model
 * puts each input in its own hidden space: the [CLS] state of a middle-to-upper layer, projected
 * on the direction along which the suspects as a population stand apart from the clean inputs the
 * model gives the same class.
 *
 * <p>Why the hidden state and not the heads: an implicit trigger (a syntactic template, a writing
 * style) leaves the heads' attention patterns almost unmoved, but the backdoor still has to carry every
 * poisoned input to the target class through a direction clean target-class inputs do not use, so
 * in the middle-to-upper layers the poisoned inputs sit apart from the clean inputs of that class
 * (the observation behind clustering defenses such as CUBE).
 *
 * <p>Why a direction and not a distance: a poisoned population of a few hundred rows shifts the
 * suspects' mean along the backdoor's direction, and Fisher's discriminant w = S⁻¹(μ_suspects −
 * μ_clean) (S the clean covariance, shrunk) points there; each suspect's z(x)·w then ranks it.
 * It ranks implicit-trigger rows far better than a distance from the clean profile (figures in
 * docs/how-it-works.md, "Design records").
 *
 * <p>The clean set is split in halves: one fits the per-class profiles, the other sets each class's
 * threshold at the chosen false-rejection rate; the suspects are split in halves too, each scored
 * along the other's direction. The class with the largest flagged share is taken as the target. The
 * flags kept are those of the layer two thirds deep (layer 4 of MiniLM's 6, 8 of bge-small's 12);
 * that class's flagged share there, against the false-rejection rate, says whether there is such a
 * population at all. Why that layer: lower layers flag an unusual surface form whether or not it is
 * the trigger, and the layer with the largest share can be one where a clean set shows a population
 * that is not there (the probes are in docs/how-it-works.md, "Evidence behind the code's rules").
 *
 * <p>Learned once from a suspect set, the same direction scores new inputs one at a time
 * ({@link #learn}, {@link HiddenDirection}): the inference-time filter for implicit triggers (figures in
 * docs/how-it-works.md).
 */
public final class HiddenStateScan {

    /**
     * @param frr       share of clean inputs allowed above the threshold
     * @param shrinkage λ of {@link CleanProfile} (correlations shrunk toward the identity)
     */
    public record Settings(double frr, double shrinkage, long seed, int batchSize) {
        public static Settings defaults(long seed) {
            return new Settings(0.05, 0.8, seed, 32);
        }

        public Settings withSeed(long s) {
            return new Settings(frr, shrinkage, s, batchSize);
        }

        public Settings withFrr(double f) {
            return new Settings(f, shrinkage, seed, batchSize);
        }
    }

    /**
     * @param layer    the hidden layer (1 = first encoder layer's output) whose flags are kept
     * @param target   the class the flagged suspects are predicted as
     * @param flagged  indices into the suspect list, flagged at {@code layer} and predicted {@code target}
     * @param share    flagged / suspects predicted {@code target}
     * @param shares   the same share for every layer of the upper half, for the record (others 0; index 0 is the embeddings' [CLS], one constant vector)
     * @param margins  per suspect, how far above its threshold it lies (negative: below), in standard
     *                 deviations of the clean calibration rows' projections; −∞ for suspects not predicted {@code target}
     */
    public record Result(int layer, int target, List<Integer> flagged, double share, double[] shares, int targetPredicted, double[] margins) {
        public Result {
            flagged = List.copyOf(flagged);
        }

        /** The flagged share over what the calibration allows: evidence of a separate population. */
        public double excess(double frr) {
            return share / frr;
        }

        /**
         * Whether the flags make a population: at least {@link #MIN_FLAGGED} of them and at least
         * {@code minExcess} times the false-rejection rate of the suspects predicted as the target.
         */
        public boolean found(double frr, double minExcess) {
            return flagged.size() >= MIN_FLAGGED && excess(frr) >= minExcess;
        }

        /**
         * The population's evidence as a verdict score in [0, 1], to rank models by:
         * (excess − 1) / (2 (minExcess − 1)), clipped, and 0 below {@link #MIN_FLAGGED} flags. A clean
         * suspect set (excess near 1) scores near 0, the bar of {@link #found} scores exactly 0.5 (the
         * model scan's verdict threshold), and 3x the FRR or more scores 1 (the poisoned training sets:
         * 3.7–5.7x at the default bar of 2).
         */
        public double evidence(double frr, double minExcess) {
            if (flagged.size() < MIN_FLAGGED) {
                return 0;
            }
            return Math.max(0, Math.min(1, (excess(frr) - 1) / (2 * (minExcess - 1))));
        }
    }

    /** Hidden [CLS] vectors per layer (index 0 = embeddings) and predicted classes, for a list of texts. */
    public record States(float[][][] cls, int[] predicted) {
        public static States of(Probe.WithStates pass) {
            return new States(pass.cls(), pass.result().predictions());
        }

        /** a's inputs, then b's. */
        public static States concat(States a, States b) {
            float[][][] cls = new float[a.cls().length][][];
            for (int l = 0; l < cls.length; l++) {
                cls[l] = java.util.stream.Stream.concat(java.util.Arrays.stream(a.cls()[l]), java.util.Arrays.stream(b.cls()[l])).toArray(float[][]::new);
            }
            int[] predicted = java.util.stream.IntStream.concat(java.util.Arrays.stream(a.predicted()), java.util.Arrays.stream(b.predicted())).toArray();
            return new States(cls, predicted);
        }
    }

    /** Fewer flagged inputs than this are noise, not a population. */
    public static final int MIN_FLAGGED = 20;

    /**
     * The flagged share must reach this many times the false-rejection rate: clean suspects gave 1.0x
     * on the embedding-poisoning victim's training texts and up to 1.6x in draws of the clean budget
     * (the 5% quantile of ~170 calibration rows is noisy); the poisoned training sets 3.7–5.7x.
     */
    public static final double MIN_EXCESS = 2.0;

    private HiddenStateScan() {}

    public static Result scan(ModelStore.LoadedModel model, List<String> clean, List<String> suspect, Settings s, NDManager root,
                              Probe.Progress progress) {
        if (clean.size() < InputScanner.MIN_CLEAN) {
            throw new HeadGuardException("the clean set has " + clean.size() + " texts; calibration needs at least " + InputScanner.MIN_CLEAN);
        }
        if (suspect.isEmpty()) {
            throw new HeadGuardException("no suspect inputs to scan");
        }
        return scan(model, states(model, clean, s.batchSize(), root, Probe.Progress.NONE), states(model, suspect, s.batchSize(), root, progress), s);
    }

    /** The same on states already computed (e.g. by the input scan's pass over the same suspects). */
    public static Result scan(ModelStore.LoadedModel model, States c, States u, Settings s) {
        if (c.predicted().length < InputScanner.MIN_CLEAN) {
            throw new HeadGuardException("the clean set has " + c.predicted().length + " texts; calibration needs at least " + InputScanner.MIN_CLEAN);
        }
        int layers = c.cls().length - 1;
        int classes = model.model().config().numLabels();
        Random rng = new Random(s.seed());
        List<Integer> idx = shuffled(c.predicted().length, rng);
        List<Integer> fit = idx.subList(0, idx.size() / 2);
        List<Integer> cal = idx.subList(idx.size() / 2, idx.size());
        List<Integer> half = shuffled(u.predicted().length, rng);
        boolean[] inA = new boolean[u.predicted().length];
        for (int i = 0; i < half.size() / 2; i++) {
            inA[half.get(i)] = true;
        }
        double[] shares = new double[layers + 1];
        Result best = null;
        int chosen = chosenLayer(layers);
        for (int l = 1; l <= layers; l++) {
            if (2 * l <= layers && l != chosen) {
                continue; // lower half: surface form (see the class comment); shares reported from the middle up
            }
            CleanProfile pooled = CleanProfile.fit(rows(c, l, fit, -1), s.shrinkage());
            Result layerBest = null;
            for (int k = 0; k < classes; k++) {
                Result r = scanClass(c, u, l, k, fit, cal, inA, pooled, s);
                if (r != null && (layerBest == null || r.share() > layerBest.share())) {
                    layerBest = r;
                }
            }
            if (layerBest == null) { // too few suspects in every class to speak of a population: nothing flagged
                double[] none = new double[u.predicted().length];
                java.util.Arrays.fill(none, Double.NEGATIVE_INFINITY);
                layerBest = new Result(l, 0, List.of(), 0, new double[0], 0, none);
            }
            shares[l] = layerBest.share();
            if (l == chosen) {
                best = layerBest;
            }
        }
        return new Result(best.layer(), best.target(), best.flagged(), best.share(), shares, best.targetPredicted(), best.margins());
    }

    /**
     * The suspects predicted {@code k}, scored at layer {@code l} along w = S⁻¹(μ_suspects − μ_clean)
     * (in the clean profile's z units), flagged above the clean rows' (1 − FRR) quantile of the same
     * projection. The suspects come in two halves and each half is scored along the direction of the
     * other, so that no suspect helps to choose the direction it is scored on: with a few hundred
     * suspects, their own sampling noise would otherwise lift every projection. Null when fewer than
     * {@link InputScanner#MIN_CLEAN} suspects are predicted {@code k}.
     */
    private static Result scanClass(States c, States u, int l, int k, List<Integer> fit, List<Integer> cal, boolean[] inA,
                                    CleanProfile pooled, Settings s) {
        List<Integer> mine = new ArrayList<>();
        for (int i = 0; i < u.predicted().length; i++) {
            if (u.predicted()[i] == k) {
                mine.add(i);
            }
        }
        if (mine.size() < InputScanner.MIN_CLEAN) {
            return null;
        }
        CleanProfile profile = profileOf(c, l, fit, k, () -> pooled, s);
        float[][] calibration = calibrationOf(c, l, cal, k);
        double[] margins = new double[u.predicted().length];
        java.util.Arrays.fill(margins, Double.NEGATIVE_INFINITY);
        for (boolean scoreA : new boolean[] {true, false}) {
            List<Integer> other = new ArrayList<>(); // the direction from the other half
            for (int i : mine) {
                if (inA[i] != scoreA) {
                    other.add(i);
                }
            }
            if (other.isEmpty()) {
                continue; // a one-row half; fewer than MIN_CLEAN rows were refused above
            }
            HiddenDirection d = HiddenDirection.fit(l, k, profile, calibration, mean(u, l, other), s.frr());
            for (int i : mine) {
                if (inA[i] == scoreA) {
                    margins[i] = d.margin(u.cls()[l][i]);
                }
            }
        }
        List<Integer> flagged = new ArrayList<>(); // in suspect order, as mine is
        for (int i : mine) {
            if (margins[i] > 0) {
                flagged.add(i);
            }
        }
        return new Result(l, k, flagged, flagged.size() / (double) mine.size(), new double[0], mine.size(), margins);
    }

    /**
     * A direction learned from every suspect predicted as the class the scan calls the target
     * (scan's layer and class), with the scan's own clean split, to score other inputs along. The
     * suspects' scan comes with it, to say whether there was a population to learn from at all: on
     * suspects without one, the direction is sampling noise and flags about the FRR of any input.
     */
    public record Learned(HiddenDirection direction, Result scan) {}

    public static Learned learn(ModelStore.LoadedModel model, States c, States u, Settings s) {
        return learn(model, c, u, s, false);
    }

    /**
     * As {@link #learn(ModelStore.LoadedModel, States, States, Settings)}, for carriers: suspect i is
     * clean row i with the scan's evidence put in. The direction's mean then takes only the carriers of
     * the clean rows that fit the profile, none of the calibration rows'. Why: a calibration row's own
     * carrier in the mean lifts that row along the direction (its state and its carrier's are nearly
     * the same), so the threshold read from those rows sat too high and the filter rejected fewer clean
     * inputs than asked (StyleBkd: 3.3% at 5%; docs/results.md).
     */
    public static Learned learnFromCarriers(ModelStore.LoadedModel model, States c, States carriers, Settings s) {
        if (carriers.predicted().length != c.predicted().length) {
            throw new IllegalArgumentException("carriers must pair with the clean rows: " + carriers.predicted().length + " against " + c.predicted().length);
        }
        return learn(model, c, carriers, s, true);
    }

    private static Learned learn(ModelStore.LoadedModel model, States c, States u, Settings s, boolean paired) {
        Result r = scan(model, c, u, s);
        CleanHalves halves = CleanHalves.of(c.predicted().length, s.seed()); // the same clean split as the scan's
        List<Integer> fit = halves.fit();
        List<Integer> cal = halves.cal();
        int l = r.layer();
        int k = r.target();
        java.util.Set<Integer> fitRows = paired ? new java.util.HashSet<>(fit) : null;
        List<Integer> mine = new ArrayList<>();
        for (int i = 0; i < u.predicted().length; i++) {
            if (u.predicted()[i] == k && (!paired || fitRows.contains(i))) {
                mine.add(i);
            }
        }
        if (mine.isEmpty()) {
            throw new HeadGuardException("no suspect input is predicted as class " + k + "; there is no population to learn a direction from");
        }
        CleanProfile profile = profileOf(c, l, fit, k, () -> CleanProfile.fit(rows(c, l, fit, -1), s.shrinkage()), s);
        float[][] calibration = calibrationOf(c, l, cal, k);
        return new Learned(HiddenDirection.fit(l, k, profile, calibration, mean(u, l, mine), inputFrr(s.frr(), c, cal, k)), r);
    }

    /** The clean rows that fit a direction's profile and those its threshold is read from, for a seed. */
    record CleanHalves(List<Integer> fit, List<Integer> cal) {
        static CleanHalves of(int n, long seed) {
            List<Integer> idx = shuffled(n, new Random(seed));
            return new CleanHalves(idx.subList(0, idx.size() / 2), idx.subList(idx.size() / 2, idx.size()));
        }
    }

    /** Class k's clean profile at layer l, or the pooled one when too few clean rows are predicted k. */
    private static CleanProfile profileOf(States c, int l, List<Integer> fit, int k, java.util.function.Supplier<CleanProfile> pooled, Settings s) {
        float[][] fitK = rows(c, l, fit, k);
        return fitK.length >= InputScanner.MIN_CLEAN / 2 ? CleanProfile.fit(fitK, s.shrinkage()) : pooled.get();
    }

    /** The calibration rows of class k at layer l, or every calibration row when too few are predicted k. */
    /**
     * The rate a direction's threshold is set at among clean inputs predicted {@code k}, so that it
     * rejects {@code frr} of all clean inputs: it scores no other class, so at {@code frr} within its
     * class it rejected about half the rate asked for on two classes (docs/results.md), and the unused
     * half of the budget is better spent where a triggered input can be, on the target class.
     */
    static double inputFrr(double frr, States c, List<Integer> cal, int k) {
        int mine = 0;
        for (int i : cal) {
            mine += c.predicted()[i] == k ? 1 : 0;
        }
        return mine == 0 ? frr : Math.min(MAX_CLASS_FRR, frr * cal.size() / mine);
    }

    /** The most a direction rejects within its class, however rare the class is among clean inputs. */
    static final double MAX_CLASS_FRR = 0.5;

    private static float[][] calibrationOf(States c, int l, List<Integer> cal, int k) {
        float[][] calK = rows(c, l, cal, k);
        return calK.length >= InputScanner.MIN_CLEAN / 2 ? calK : rows(c, l, cal, -1);
    }

    private static double[] mean(States u, int l, List<Integer> which) {
        double[] mean = new double[u.cls()[l][0].length];
        for (int i : which) {
            float[] x = u.cls()[l][i];
            for (int j = 0; j < mean.length; j++) {
                mean[j] += x[j];
            }
        }
        for (int j = 0; j < mean.length; j++) {
            mean[j] /= which.size();
        }
        return mean;
    }

    private static List<Integer> shuffled(int n, Random rng) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            idx.add(i);
        }
        Collections.shuffle(idx, rng);
        return idx;
    }

    /** The states at layer {@code l} of the listed clean rows predicted {@code k} (every listed row when k < 0). */
    private static float[][] rows(States c, int l, List<Integer> which, int k) {
        List<float[]> out = new ArrayList<>();
        for (int i : which) {
            if (k < 0 || c.predicted()[i] == k) {
                out.add(c.cls()[l][i]);
            }
        }
        return out.toArray(float[][]::new);
    }

    /** The layer whose flags are kept: two thirds of the encoder's depth, rounded up. */
    public static int chosenLayer(int layers) {
        return Math.max(1, (2 * layers + 2) / 3); // ceil(2L/3): 4 of 6, 8 of 12, 2 of 2
    }

    static States states(ModelStore.LoadedModel model, List<String> texts, int batchSize, NDManager root, Probe.Progress progress) {
        return States.of(Probe.runWithStates(model, texts, null, root, batchSize, progress));
    }
}
