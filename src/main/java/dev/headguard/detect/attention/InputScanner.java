package dev.headguard.detect.attention;


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
 * inputs than asked. The threshold is set per predicted class (Mondrian conformal calibration): the
 * ⌈(n+1)(1 − FRR)⌉-th smallest of the n held-out scores of inputs the model gives that class, so that
 * a clean input of any class is rejected with probability at most the FRR (inputs exchangeable with
 * the clean set). One pooled threshold let the rate differ by class (docs/results.md). A class with fewer than
 * {@link #MIN_CLASS_CALIBRATION} held-out inputs uses the pooled threshold.
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

    /**
     * Held-out clean inputs a class needs for its own threshold; fewer, and the pooled one serves.
     * 20 is the least for which the conformal quantile at a 5% FRR is a score at all (n + 1 ≥ 1/FRR).
     */
    public static final int MIN_CLASS_CALIBRATION = 20;

    /**
     * Held-out clean inputs per class for the realised FRR to sit within about ±1.5 points of the
     * asked one at 5% (one binomial standard deviation, √(0.05 · 0.95 / n) ≤ 0.0155): the CLI warns below it.
     * The clean file needs about twice this per class, since half of it fits the profile.
     */
    public static final int ADVISED_CLASS_CALIBRATION = 200;

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
    private final double[] thresholds; // per predicted class
    private final int[] calibrationCounts; // held-out inputs per predicted class
    private final Probe.Result clean;
    private final double[] calibrationScores;

    private InputScanner(ModelStore.LoadedModel model, NDManager root, Settings settings, AttentionFeatures features, CleanProfile profile,
                         CleanProfile[] byClass, double threshold, double[] thresholds, int[] calibrationCounts, Probe.Result clean,
                         double[] calibrationScores) {
        this.byClass = byClass;
        this.thresholds = thresholds;
        this.calibrationCounts = calibrationCounts;
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
        List<List<Double>> calByClass = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            calByClass.add(new ArrayList<>());
        }
        for (int i = 0; i < calScores.length; i++) {
            calScores[i] = distance(profile, perClass, settings, probe.features()[calRows.get(i)], pred[calRows.get(i)]);
            calByClass.get(pred[calRows.get(i)]).add(calScores[i]);
        }
        double pooled = Roc.thresholdAtFrr(calScores, settings.frr());
        double[] thresholds = new double[classes];
        int[] counts = new int[classes];
        for (int c = 0; c < classes; c++) {
            double[] own = calByClass.get(c).stream().mapToDouble(Double::doubleValue).toArray();
            counts[c] = own.length;
            thresholds[c] = own.length >= MIN_CLASS_CALIBRATION ? Roc.thresholdAtFrr(own, settings.frr()) : pooled;
        }
        return new InputScanner(model, root, settings, f, profile, perClass, pooled, thresholds, counts, probe, calScores);
    }

    /**
     * Writes what scoring needs (settings, profiles, thresholds, the calibration scores), not the clean
     * set's probe: a part of {@code CalibratedFilter}'s format, read back by {@link #read}.
     */
    public void write(java.io.DataOutputStream out) throws java.io.IOException {
        out.writeInt(settings.families().size());
        for (AttentionFeatures.Family f : settings.families()) {
            out.writeUTF(f.key);
        }
        out.writeUTF(settings.score().key);
        out.writeDouble(settings.shrinkage());
        out.writeDouble(settings.frr());
        out.writeLong(settings.seed());
        out.writeInt(settings.batchSize());
        out.writeBoolean(settings.byClass());
        profile.write(out);
        out.writeInt(byClass.length);
        for (CleanProfile p : byClass) {
            out.writeBoolean(p != null);
            if (p != null) {
                p.write(out);
            }
        }
        out.writeDouble(threshold);
        for (int c = 0; c < byClass.length; c++) {
            out.writeDouble(thresholds[c]);
            out.writeInt(calibrationCounts[c]);
        }
        out.writeInt(calibrationScores.length);
        for (double v : calibrationScores) {
            out.writeDouble(v);
        }
    }

    /**
     * A scanner {@link #write} wrote, scoring with {@code model}; its {@link #clean()} is null (the clean
     * set stayed where it was calibrated).
     */
    public static InputScanner read(java.io.DataInputStream in, ModelStore.LoadedModel model, NDManager root) throws java.io.IOException {
        int nf = in.readInt();
        Set<AttentionFeatures.Family> families = java.util.EnumSet.noneOf(AttentionFeatures.Family.class);
        for (int i = 0; i < nf; i++) {
            families.add(AttentionFeatures.Family.of(in.readUTF()));
        }
        Settings settings = new Settings(families, CleanProfile.Score.of(in.readUTF()), in.readDouble(), in.readDouble(), in.readLong(), in.readInt(),
                in.readBoolean());
        AttentionFeatures f = new AttentionFeatures(model.model().config(), settings.families());
        CleanProfile profile = CleanProfile.read(in);
        if (profile.dimension() != f.size()) {
            throw new java.io.IOException("the filter's attention profile has " + profile.dimension() + " statistics, this model gives " + f.size());
        }
        int classes = in.readInt();
        int own = Math.max(1, model.model().config().numLabels()); // a language model's prompts are all of one kind
        if (classes != own) {
            throw new java.io.IOException("the filter was calibrated for " + classes + " classes, this model has " + own);
        }
        CleanProfile[] byClass = new CleanProfile[classes];
        for (int c = 0; c < classes; c++) {
            byClass[c] = in.readBoolean() ? CleanProfile.read(in) : null;
        }
        double threshold = in.readDouble();
        double[] thresholds = new double[classes];
        int[] counts = new int[classes];
        for (int c = 0; c < classes; c++) {
            thresholds[c] = in.readDouble();
            counts[c] = in.readInt();
        }
        double[] calScores = new double[in.readInt()];
        for (int i = 0; i < calScores.length; i++) {
            calScores[i] = in.readDouble();
        }
        return new InputScanner(model, root, settings, f, profile, byClass, threshold, thresholds, counts, null, calScores);
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
            flagged[i] = s[i] > threshold(pred[i]);
        }
        return new Scores(s, flagged, probe);
    }

    /** The pooled threshold over every held-out clean score (the one a class with too few held-out inputs uses). */
    public double threshold() {
        return threshold;
    }

    /** The threshold for inputs the model gives class {@code predicted}. */
    public double threshold(int predicted) {
        return predicted >= 0 && predicted < thresholds.length ? thresholds[predicted] : threshold;
    }

    /** Per predicted class, its threshold. */
    public double[] thresholds() {
        return thresholds.clone();
    }

    /** Per predicted class, how many held-out clean inputs set its threshold (fewer than {@link #MIN_CLASS_CALIBRATION}: the pooled one). */
    public int[] calibrationCounts() {
        return calibrationCounts.clone();
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

    /** The clean set's probe (features and probabilities of every clean text); null for a scanner {@link #read} back. */
    public Probe.Result clean() {
        return clean;
    }

    /**
     * Scores as margins above the threshold in standard deviations of the calibration scores (flagged
     * exactly above 0): the scale on which the attention scan's scores sit beside the hidden-state
     * margins ({@code CombinedFilter}, {@code BatchAudit}, {@code CandidateDirection.Choice}).
     */
    public double[] margins(double[] scores, int[] predicted) {
        double sd = Math.max(Statistics.sd(calibrationScores), 1e-12);
        double[] out = new double[scores.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (scores[i] - threshold(predicted[i])) / sd;
        }
        return out;
    }

    /** {@link #margins(double[], int[])} of scored inputs. */
    public double[] margins(Scores s) {
        return margins(s.scores(), s.probe().predictions());
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
