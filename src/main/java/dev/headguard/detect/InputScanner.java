package dev.headguard.detect;

import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.model.io.ModelStore;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Scores inputs by how far their attention-head statistics sit from clean behaviour, with a
 * threshold calibrated to a chosen false-rejection rate.
 *
 * <p>The clean set is split in two with a seed: one half fits the {@link CleanProfile}, the other
 * half, which the profile has not seen, sets the threshold. Calibrating on the fitting half would
 * under-estimate clean scores (a fitted model is closest to its own data) and reject more clean
 * inputs than asked.
 */
public final class InputScanner {

    /**
     * @param families   which head statistics make the vector
     * @param score      how distance from clean is read
     * @param shrinkage  λ of the clean correlation matrix (0: none, 1: diagonal)
     * @param frr        false-rejection rate the threshold is set for
     * @param byClass    one clean profile per predicted class: an input is compared with clean inputs
     *                   the model gives the same label (a triggered input wears the target label but
     *                   not the target class's attention)
     */
    public record Settings(Set<AttentionFeatures.Family> families, CleanProfile.Score score, double shrinkage, double frr, long seed,
                           int batchSize, boolean byClass) {
        public Settings {
            if (!(frr > 0 && frr < 1)) {
                throw new HeadGuardException("--frr must be between 0 and 1 (exclusive), got " + frr);
            }
            if (!(shrinkage >= 0 && shrinkage <= 1)) {
                throw new HeadGuardException("--shrinkage must be between 0 and 1, got " + shrinkage);
            }
        }

        public static Settings defaults() {
            return new Settings(AttentionFeatures.DEFAULT, CleanProfile.Score.MAHALANOBIS, 0.8, 0.05, 42, 32, true);
        }

        public Settings withFrr(double f) {
            return new Settings(families, score, shrinkage, f, seed, batchSize, byClass);
        }

        public Settings withScore(CleanProfile.Score s) {
            return new Settings(families, s, shrinkage, frr, seed, batchSize, byClass);
        }

        public Settings withFamilies(Set<AttentionFeatures.Family> f) {
            return new Settings(f, score, shrinkage, frr, seed, batchSize, byClass);
        }

        public Settings withByClass(boolean on) {
            return new Settings(families, score, shrinkage, frr, seed, batchSize, on);
        }

        public Settings withShrinkage(double l) {
            return new Settings(families, score, l, frr, seed, batchSize, byClass);
        }
    }

    /** Smallest clean set that leaves a usable half for each of fitting and calibration. */
    public static final int MIN_CLEAN = 20;

    /** Scores of many inputs, in input order, with the probe behind them. */
    public record Scores(double[] scores, boolean[] flagged, Probe.Result probe) {
        public int flaggedCount() {
            int n = 0;
            for (boolean f : flagged) {
                n += f ? 1 : 0;
            }
            return n;
        }
    }

    private final ModelStore.LoadedModel model;
    private final NDManager root;
    private final Settings settings;
    private final AttentionFeatures features;
    private final CleanProfile profile;
    private final CleanProfile[] byClass; // null entries: too few clean inputs of that class, the pooled profile serves
    private final double threshold;
    private final Probe.Result clean;
    private final double[] calibrationScores;

    private InputScanner(ModelStore.LoadedModel model, NDManager root, Settings settings, AttentionFeatures features, CleanProfile profile,
                         CleanProfile[] byClass, double threshold, Probe.Result clean, double[] calibrationScores) {
        this.byClass = byClass;
        this.model = model;
        this.root = root;
        this.settings = settings;
        this.features = features;
        this.profile = profile;
        this.threshold = threshold;
        this.clean = clean;
        this.calibrationScores = calibrationScores;
    }

    /** Fits the clean profile and its threshold on {@code cleanTexts}. */
    public static InputScanner calibrate(ModelStore.LoadedModel model, List<String> cleanTexts, Settings settings, NDManager root,
                                         Probe.Progress progress) {
        if (cleanTexts.size() < MIN_CLEAN) {
            throw new HeadGuardException("the clean set has " + cleanTexts.size() + " texts; calibration needs at least " + MIN_CLEAN);
        }
        AttentionFeatures f = new AttentionFeatures(model.model().config(), settings.families());
        Probe.Result probe = Probe.run(model, cleanTexts, f, root, settings.batchSize(), progress);
        return calibrate(model, probe, f, settings, root);
    }

    /** The same, from clean vectors already computed with {@code f}. */
    public static InputScanner calibrate(ModelStore.LoadedModel model, Probe.Result probe, AttentionFeatures f, Settings settings, NDManager root) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < probe.size(); i++) {
            idx.add(i);
        }
        Collections.shuffle(idx, new Random(settings.seed()));
        int half = idx.size() / 2;
        int[] pred = probe.predictions();
        int classes = probe.probabilities()[0].length;
        float[][] fit = new float[half][];
        List<List<float[]>> fitByClass = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            fitByClass.add(new ArrayList<>());
        }
        for (int i = 0; i < half; i++) {
            fit[i] = probe.features()[idx.get(i)];
            fitByClass.get(pred[idx.get(i)]).add(fit[i]);
        }
        CleanProfile profile;
        CleanProfile[] perClass = new CleanProfile[classes];
        try {
            profile = CleanProfile.fit(fit, settings.shrinkage());
            if (settings.byClass()) {
                for (int c = 0; c < classes; c++) {
                    if (fitByClass.get(c).size() >= MIN_CLEAN / 2) {
                        perClass[c] = CleanProfile.fit(fitByClass.get(c).toArray(float[][]::new), settings.shrinkage());
                    }
                }
            }
        } catch (IllegalArgumentException e) {
            throw new HeadGuardException("cannot fit the clean profile: " + e.getMessage());
        }
        List<Integer> calRows = idx.subList(half, idx.size());
        double[] calScores = new double[calRows.size()];
        for (int i = 0; i < calScores.length; i++) {
            calScores[i] = distance(profile, perClass, settings, probe.features()[calRows.get(i)], pred[calRows.get(i)]);
        }
        return new InputScanner(model, root, settings, f, profile, perClass, Roc.thresholdAtFrr(calScores, settings.frr()), probe, calScores);
    }

    /** Distance of one vector from clean behaviour (of its predicted class, when scoring by class). */
    public double score(float[] x, int predicted) {
        return distance(profile, byClass, settings, x, predicted);
    }

    private static double distance(CleanProfile pooled, CleanProfile[] byClass, Settings settings, float[] x, int predicted) {
        CleanProfile p = settings.byClass() && predicted < byClass.length && byClass[predicted] != null ? byClass[predicted] : pooled;
        return p.score(x, settings.score());
    }

    public Scores score(List<String> texts, Probe.Progress progress) {
        return score(Probe.run(model, texts, features, root, settings.batchSize(), progress));
    }

    public Scores score(Probe.Result probe) {
        int[] pred = probe.predictions();
        double[] s = new double[probe.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = score(probe.features()[i], pred[i]);
        }
        boolean[] flagged = new boolean[s.length];
        for (int i = 0; i < s.length; i++) {
            flagged[i] = s[i] > threshold;
        }
        return new Scores(s, flagged, probe);
    }

    public double threshold() {
        return threshold;
    }

    public Settings settings() {
        return settings;
    }

    public AttentionFeatures features() {
        return features;
    }

    public CleanProfile profile() {
        return profile;
    }

    /** The clean set's probe (features and probabilities of every clean text). */
    public Probe.Result clean() {
        return clean;
    }

    /**
     * Scores as margins above the threshold in standard deviations of the calibration scores (flagged
     * exactly above 0): the scale on which the attention scan's scores sit beside the hidden-state
     * margins ({@link CombinedFilter}, {@link BatchAudit}, {@link CandidateDirection.Choice}).
     */
    public double[] margins(double[] scores) {
        double sd = Math.max(HiddenStateScan.sd(calibrationScores), 1e-12);
        double[] out = new double[scores.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (scores[i] - threshold) / sd;
        }
        return out;
    }

    /** Scores of the held-out calibration half. */
    public double[] calibrationScores() {
        return calibrationScores.clone();
    }

    public ModelStore.LoadedModel model() {
        return model;
    }

    public NDManager root() {
        return root;
    }
}
