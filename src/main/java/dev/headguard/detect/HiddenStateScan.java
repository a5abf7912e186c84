package dev.headguard.detect;

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
 * style) leaves the heads' attention patterns almost unmoved (the input scan's audit recall on the
 * SynBkd and StyleBkd training sets was 0.09 and 0.32), but the backdoor still has to carry every
 * poisoned input to the target class through a direction clean target-class inputs do not use, so
 * in the middle-to-upper layers the poisoned inputs sit apart from the clean inputs of that class
 * (the observation behind clustering defenses such as CUBE).
 *
 * <p>Why a direction and not a distance: a poisoned population of a few hundred rows shifts the
 * suspects' mean along the backdoor's direction, and Fisher's discriminant w = S⁻¹(μ_suspects −
 * μ_clean) (S the clean covariance, shrunk) points there; each suspect's z(x)·w then ranks it.
 * Measured on the MiniLM victims' training sets at layer 4 (closing note of the repair issue):
 * audit AUROC 0.95 (SynBkd) and 0.90 (StyleBkd) against 0.73 and 0.85 for the Mahalanobis distance
 * from the clean profile that this scan used before; at a 5% false-rejection rate, recall 0.81 and
 * 0.69 against 0.23 and 0.52, at a precision of 0.86 and 0.81. On clean suspects the direction is
 * sampling noise and the flagged share stays near the rate (2–8% in 12 draws of the clean budget).
 *
 * <p>The clean set is split in halves: one fits the per-class profiles, the other sets each class's
 * threshold at the chosen false-rejection rate; the suspects are split in halves too, each scored
 * along the other's direction. The class with the largest flagged share is taken as the target. The
 * flags kept are those of the layer two thirds deep (layer 4 of MiniLM's 6, 8 of bge-small's 12);
 * that class's flagged share there, against the false-rejection rate, says whether there is such a
 * population at all. Why that layer (probes with the distance score): on the StyleBkd and SynBkd
 * victims layer 4 had the best audit AUROC; lower layers flag an unusual surface form whether or not
 * it is the trigger (unlearning StyleBkd's layer-2 flags left ASR at 49.5%, layer 4's at 32.2%); and
 * the layer with the largest share was the last one on the clean training texts of the
 * embedding-poisoning victim, a population that is not there.
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
    }

    /** Hidden [CLS] vectors per layer (index 0 = embeddings) and predicted classes, for a list of texts. */
    public record States(float[][][] cls, int[] predicted) {
        public static States of(Probe.WithStates pass) {
            return new States(pass.cls(), pass.result().predictions());
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
        float[][] fitK = rows(c, l, fit, k);
        CleanProfile profile = fitK.length >= InputScanner.MIN_CLEAN / 2 ? CleanProfile.fit(fitK, s.shrinkage()) : pooled;
        float[][] calK = rows(c, l, cal, k);
        float[][] calibration = calK.length >= InputScanner.MIN_CLEAN / 2 ? calK : rows(c, l, cal, -1);
        double[] margins = new double[u.predicted().length];
        java.util.Arrays.fill(margins, Double.NEGATIVE_INFINITY);
        for (boolean scoreA : new boolean[] {true, false}) {
            double[] mean = new double[u.cls()[l][0].length];
            int n = 0;
            for (int i : mine) {
                if (inA[i] != scoreA) { // the direction from the other half
                    float[] x = u.cls()[l][i];
                    for (int j = 0; j < mean.length; j++) {
                        mean[j] += x[j];
                    }
                    n++;
                }
            }
            if (n == 0) {
                continue; // a one-row half; fewer than MIN_CLEAN rows were refused above
            }
            for (int j = 0; j < mean.length; j++) {
                mean[j] /= n;
            }
            double[] w = profile.discriminant(mean);
            double[] calScores = new double[calibration.length];
            for (int i = 0; i < calScores.length; i++) {
                calScores[i] = profile.project(calibration[i], w);
            }
            double threshold = Roc.thresholdAtFrr(calScores, s.frr());
            double sd = Math.max(sd(calScores), 1e-12);
            for (int i : mine) {
                if (inA[i] == scoreA) {
                    margins[i] = (profile.project(u.cls()[l][i], w) - threshold) / sd;
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

    private static double sd(double[] x) {
        double mean = 0;
        for (double v : x) {
            mean += v / x.length;
        }
        double ss = 0;
        for (double v : x) {
            ss += (v - mean) * (v - mean);
        }
        return x.length < 2 ? 0 : Math.sqrt(ss / (x.length - 1));
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
