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
 * puts each input in its own hidden space: the [CLS] state of every layer, scored by a shrunk
 * Mahalanobis distance from the clean inputs the model gives the same class.
 *
 * <p>Why the hidden state and not the heads: an implicit trigger (a syntactic template, a writing
 * style) leaves the heads' attention patterns almost unmoved (the input scan's audit recall on the
 * SynBkd and StyleBkd training sets was 0.09 and 0.32), but the backdoor still has to carry every
 * poisoned input to the target class through a direction clean target-class inputs do not use, so
 * in the middle-to-upper layers the poisoned inputs sit apart from the clean inputs of that class
 * (the observation behind clustering defenses such as CUBE). The clean set is split in halves: one
 * fits the per-class profiles, the other sets the threshold at the chosen false-rejection rate.
 * Each layer then flags the suspects above it; the class that collects most flags is taken as the
 * target. The flags kept are those of the layer two thirds deep (layer 4 of MiniLM's 6, 8 of
 * bge-small's 12); the flagged share of that class's suspects there, against the false-rejection
 * rate, says whether there is such a population at all (clean suspects give about the rate). Why
 * that layer, measured (closing note of the repair issue): on the StyleBkd and SynBkd victims layer
 * 4 had the best training-set audit AUROC (0.81, 0.71); lower layers flag an unusual surface form
 * whether or not it is the trigger (StyleBkd's largest share was at layer 2, and unlearning its flags
 * left ASR at 49.5%, vs 32.2% for layer 4's); and picking the layer with the largest share instead
 * picked the last layer on the clean training texts of the embedding-poisoning victim (8.8% vs 5.9%
 * at layer 4), a population that is not there.
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
    }

    /**
     * @param layer    the hidden layer (1 = first encoder layer's output) whose flags are kept
     * @param target   the class the flagged suspects are predicted as
     * @param flagged  indices into the suspect list, flagged at {@code layer} and predicted {@code target}
     * @param share    flagged / suspects predicted {@code target}
     * @param shares   the same share for every layer of the upper half, for the record (others 0; index 0 is the embeddings' [CLS], one constant vector)
     */
    public record Result(int layer, int target, List<Integer> flagged, double share, double[] shares, int targetPredicted) {
        public Result {
            flagged = List.copyOf(flagged);
        }

        /** The flagged share over what the calibration allows: evidence of a separate population. */
        public double excess(double frr) {
            return share / frr;
        }
    }

    /** Hidden [CLS] vectors per layer (index 0 = embeddings) and predicted classes, for a list of texts. */
    public record States(float[][][] cls, int[] predicted) {
        public static States of(Probe.WithStates pass) {
            return new States(pass.cls(), pass.result().predictions());
        }
    }

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
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < c.predicted().length; i++) {
            idx.add(i);
        }
        Collections.shuffle(idx, new Random(s.seed()));
        List<Integer> fit = idx.subList(0, idx.size() / 2);
        List<Integer> cal = idx.subList(idx.size() / 2, idx.size());
        double[] shares = new double[layers + 1];
        Result best = null;
        int chosen = chosenLayer(layers);
        for (int l = 1; l <= layers; l++) {
            if (2 * l <= layers && l != chosen) {
                continue; // lower half: surface form (see the class comment); shares reported from the middle up
            }
            CleanProfile[] profiles = profiles(c, l, fit, classes, s.shrinkage());
            double[] calScores = new double[cal.size()];
            for (int i = 0; i < calScores.length; i++) {
                calScores[i] = score(profiles, c.cls()[l][cal.get(i)], c.predicted()[cal.get(i)]);
            }
            double threshold = Roc.thresholdAtFrr(calScores, s.frr());
            int[] flagsPerClass = new int[classes];
            boolean[] flag = new boolean[u.predicted().length];
            for (int i = 0; i < flag.length; i++) {
                flag[i] = score(profiles, u.cls()[l][i], u.predicted()[i]) > threshold;
                flagsPerClass[u.predicted()[i]] += flag[i] ? 1 : 0;
            }
            int target = 0;
            for (int k = 1; k < classes; k++) {
                target = flagsPerClass[k] > flagsPerClass[target] ? k : target;
            }
            List<Integer> kept = new ArrayList<>();
            int predictedTarget = 0;
            for (int i = 0; i < flag.length; i++) {
                if (u.predicted()[i] == target) {
                    predictedTarget++;
                    if (flag[i]) {
                        kept.add(i);
                    }
                }
            }
            shares[l] = predictedTarget == 0 ? 0 : kept.size() / (double) predictedTarget;
            if (l == chosen) {
                best = new Result(l, target, kept, shares[l], shares, predictedTarget);
            }
        }
        return best; // its shares array was filled for every layer scored
    }

    /** The layer whose flags are kept: two thirds of the encoder's depth, rounded up. */
    public static int chosenLayer(int layers) {
        return Math.max(1, (2 * layers + 2) / 3); // ceil(2L/3): 4 of 6, 8 of 12, 2 of 2
    }

    /** Per predicted class (falling back to all fit rows for a class with too few of them). */
    private static CleanProfile[] profiles(States c, int layer, List<Integer> fit, int classes, double shrinkage) {
        List<List<float[]>> byClass = new ArrayList<>();
        List<float[]> all = new ArrayList<>();
        for (int k = 0; k < classes; k++) {
            byClass.add(new ArrayList<>());
        }
        for (int i : fit) {
            byClass.get(c.predicted()[i]).add(c.cls()[layer][i]);
            all.add(c.cls()[layer][i]);
        }
        CleanProfile pooled = CleanProfile.fit(all.toArray(float[][]::new), shrinkage);
        CleanProfile[] out = new CleanProfile[classes];
        for (int k = 0; k < classes; k++) {
            out[k] = byClass.get(k).size() >= InputScanner.MIN_CLEAN / 2 ? CleanProfile.fit(byClass.get(k).toArray(float[][]::new), shrinkage) : pooled;
        }
        return out;
    }

    private static double score(CleanProfile[] profiles, float[] x, int predicted) {
        return profiles[predicted].score(x, CleanProfile.Score.MAHALANOBIS);
    }

    static States states(ModelStore.LoadedModel model, List<String> texts, int batchSize, NDManager root, Probe.Progress progress) {
        return States.of(Probe.runWithStates(model, texts, null, root, batchSize, progress));
    }
}
