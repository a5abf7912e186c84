package dev.headguard.bench;

import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.detect.attention.AttentionFeatures;
import dev.headguard.detect.attention.AttentionFeatures.Family;
import dev.headguard.detect.attention.CleanProfile;
import dev.headguard.detect.hidden.HiddenDirection;
import dev.headguard.detect.hidden.HiddenStateScan;
import dev.headguard.detect.attention.InputScanner;
import dev.headguard.detect.attention.Probe;
import dev.headguard.detect.baseline.Rap;
import dev.headguard.detect.attention.Roc;
import dev.headguard.inference.TargetLikelihood;
import dev.headguard.detect.baseline.Strip;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Dataset;
import dev.headguard.text.DatasetReader;
import dev.headguard.text.Example;
import dev.headguard.text.PromptResponseFile;
import dev.headguard.text.Sample;
import dev.headguard.text.SentenceFile;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Input-detection benchmark on one victim: clean test inputs of the non-target classes against
 * their triggered counterparts, scored by HeadGuard's variants (feature families x distance) and
 * by the STRIP and RAP baselines, each calibrated on the same clean set at the same FRR.
 * Optionally audits a poisoned training set (a 'poisoned' column is the ground truth).
 *
 * <p>Two protocols: the literature's (triggered inputs against the clean inputs of the other
 * classes), where the model's own prediction already separates most of them (the reference row), and
 * triggered inputs against every clean input, the target class's included — what a filter faces.
 */
public final class DetectionBenchmark {
    private DetectionBenchmark() {}

    /** The files: the defender's clean set, the clean test set, the triggered test inputs; optional audit, suspects and scan report. */
    public record Files(Path clean, Path test, Path triggered, Path audit, Path suspect, Path scanReport) {}

    /**
     * @param target    the attacker's label (RAP protects it; its clean test rows are the "target class" column)
     * @param limit     a seeded sample of N rows of the clean set, the test inputs and the triggered ones (0: all)
     * @param baselines strip, rap or none
     * @param variants  also every feature family and distance, not only the default
     */
    public record Settings(int target, int limit, double frr, List<String> baselines, boolean variants) {}

    /**
     * How many inputs of each kind were scored.
     *
     * @param prompts a decoder's prompts: every clean test prompt is a negative, and there is no target class
     */
    public record Sizes(int cleanRows, int negatives, int targetClassClean, int positives, boolean prompts) {}

    /**
     * One method's line: AUROC and test FRR against the clean inputs of the other classes (the
     * literature's protocol), FAR on the triggered ones, and the same AUROC and FRR against every
     * clean test input, the target class's included.
     */
    public record Method(String name, double auroc, double far, double testFrr, double threshold, double aurocAllClean, double testFrrAllClean) {}

    /** The attention scan's audit of a poisoned training set. */
    public record Audit(Path file, int rows, int poisoned, int flagged, double precision, double recall, double auroc, double rowsPerSecond) {}

    /** The same rows as one population (the hidden-state scan). */
    public record PopulationAudit(int layer, int target, int flagged, double share, double precision, double recall, double auroc) {}

    public record Result(String model, Files files, Sizes sizes, double frr, List<Method> methods, Audit audit, PopulationAudit populationAudit,
                         double probeSentencesPerSecond) {}

    /** Told as the run goes: the sizes once the passes are done, then each method's line. */
    public interface Listener {
        default void started(String model, Sizes sizes, int target, double frr) {}

        default void method(Method m) {}

        /** A step that is not a pass over inputs (a decoder's model scan). */
        default void stage(String message) {}
    }

    public static Result run(ModelStore.LoadedModel m, Files files, Settings s, NDManager root, Function<String, Probe.Progress> progress, Listener listener) {
        return new Run(m, files, s, root, progress, listener).run();
    }

    /** One run's state: the passes every row shares. */
    private static final class Run {
        private final ModelStore.LoadedModel m;
        private final Files files;
        private final Settings s;
        private final NDManager root;
        private final Function<String, Probe.Progress> progress;
        private final Listener listener;
        private final List<Method> methods = new ArrayList<>();
        private final double frr;

        Run(ModelStore.LoadedModel m, Files files, Settings s, NDManager root, Function<String, Probe.Progress> progress, Listener listener) {
            this.m = m;
            this.files = files;
            this.s = s;
            this.root = root;
            this.progress = progress;
            this.listener = listener;
            this.frr = s.frr();
        }

        Result run() {
            // A decoder language model is scored on prompts: every clean test prompt is a negative, there is no target class.
            boolean prompts = m.model().config().family().decoder && m.model().config().languageModel();
            if (prompts && (files.audit() != null || files.suspect() != null)) {
                throw new HeadGuardException("--audit and --suspect: not yet for a decoder language model");
            }
            String elicited = prompts ? elicitedTarget() : null;
            Dataset cleanSet = prompts ? null : sample(DatasetReader.read(files.clean()), s.limit());
            List<String> cleanTexts = prompts ? samplePrompts(PromptResponseFile.readPrompts(files.clean()), s.limit()) : cleanSet.texts();
            List<String> negatives = new ArrayList<>();
            List<String> targets = new ArrayList<>(); // clean inputs of the target class: what a filter also sees, and must pass
            if (prompts) {
                negatives.addAll(PromptResponseFile.readPrompts(files.test()));
            } else {
                for (Example e : DatasetReader.read(files.test()).examples()) {
                    (e.label() != s.target() ? negatives : targets).add(e.text());
                }
                if (negatives.isEmpty() || targets.isEmpty()) {
                    throw new HeadGuardException(files.test() + ": the clean test set needs rows of label " + s.target() + " and of other labels");
                }
            }
            List<String> positives = prompts ? PromptResponseFile.readPrompts(files.triggered())
                    : DatasetReader.read(files.triggered(), DatasetReader.Options.defaults()).texts();
            if (s.limit() > 0) {
                negatives = Sample.of(negatives, s.limit(), 7);
                targets = targets.isEmpty() ? targets : Sample.of(targets, s.limit(), 7);
                positives = Sample.of(positives, s.limit(), 7);
            }
            Sizes sizes = new Sizes(cleanTexts.size(), negatives.size(), targets.size(), positives.size(), prompts);
            AttentionFeatures all = new AttentionFeatures(m.model().config(), EnumSet.allOf(Family.class));
            InputScanner.Settings base = InputScanner.Settings.defaults().withFrr(frr);
            // One pass each: the attention features and the hidden states the population rows need.
            Probe.WithStates cleanPass = Probe.runWithStates(m, cleanTexts, all, root, 32, progress.apply("clean set"));
            long t0 = System.nanoTime();
            Probe.WithStates negPass = Probe.runWithStates(m, negatives, all, root, 32, progress.apply("clean test inputs"));
            Probe.WithStates posPass = Probe.runWithStates(m, positives, all, root, 32, progress.apply("triggered inputs"));
            Probe.WithStates tgtPass = Probe.runWithStates(m, targets, all, root, 32, progress.apply("clean test inputs of the target class"));
            Probe.Result cleanProbe = cleanPass.result();
            double allFamiliesRate = (negatives.size() + positives.size()) / ((System.nanoTime() - t0) / 1e9);
            listener.started(m.directory().toString(), sizes, s.target(), frr);
            attentionRows(all, base, cleanProbe, negPass.result(), tgtPass.result(), posPass.result());
            // One pass over the audited training set serves its attention audit, its population audit and,
            // when no other suspects are named, the direction the test inputs are scored along.
            Dataset poisoned = files.audit() == null ? null
                    : DatasetReader.read(files.audit(), new DatasetReader.Options(null, "sentence", "poisoned", true, List.of(), DatasetReader.OnBadRow.FAIL));
            AttentionFeatures defaults = new AttentionFeatures(m.model().config(), all.defaults());
            Probe.WithStates auditPass = null;
            double auditRate = 0;
            if (poisoned != null) {
                long a0 = System.nanoTime();
                auditPass = Probe.runWithStates(m, poisoned.texts(), defaults, root, 32, progress.apply("audit"));
                auditRate = poisoned.size() / ((System.nanoTime() - a0) / 1e9);
            }
            HiddenStateScan.States suspects = null;
            if (files.suspect() != null) {
                List<String> texts = SentenceFile.readSentences(files.suspect()); // unlabelled: a label column is not needed
                suspects = HiddenStateScan.States.of(Probe.runWithStates(m, texts, null, root, 32, progress.apply("suspects, hidden states")));
            } else if (auditPass != null) {
                suspects = HiddenStateScan.States.of(auditPass);
            }
            // The default attention scan at the FRR, calibrated once for the rows that choose between it and a direction.
            InputScanner defaultScanner = InputScanner.calibrate(m, cleanProbe.select(all.columnsOf(all.defaults())), defaults, base, root);
            List<Probe.WithStates> tests = List.of(negPass, tgtPass, posPass);
            HiddenDirection half = DetectionRows.hiddenState(this::add, m, all, defaultScanner, cleanPass, tests, suspects, frr);
            if (half != null) {
                DetectionRows.combined(this::add, m, all, cleanProbe, tests, half, root, "hidden-state direction", frr);
            }
            if (elicited != null) {
                double[] clean = TargetLikelihood.scores(m, cleanTexts, elicited, root);
                add("HeadGuard target likelihood (the scan's \"" + elicited + "\")", TargetLikelihood.scores(m, negatives, elicited, root), new double[0],
                        TargetLikelihood.scores(m, positives, elicited, root), Roc.thresholdAtFrr(clean, frr));
            } else if (files.scanReport() != null) {
                DetectionRows.scanDirection(this::add, m, all, defaultScanner, cleanTexts, cleanPass, tests,
                        dev.headguard.report.ModelScanFile.evidence(files.scanReport()), root, progress, frr);
            }
            // What the prediction alone gives: the hidden-state rows score only inputs predicted as the
            // target, so this says how much of their AUROC the direction adds to the predicted class.
            int target = s.target();
            if (!prompts) { // a decoder's prompts have no class to give a probability of
                add("reference: the victim's probability of label " + target + " (no defense)", column(negPass.result().probabilities(), target),
                        column(tgtPass.result().probabilities(), target), column(posPass.result().probabilities(), target),
                        Roc.thresholdAtFrr(column(cleanProbe.probabilities(), target), frr));
            }
            baselineRows(cleanSet, cleanTexts, negatives, targets, positives);
            Audit audit = null;
            PopulationAudit population = null;
            if (poisoned != null) {
                InputScanner scanner = InputScanner.calibrate(m, cleanProbe.select(all.columnsOf(all.defaults())), defaults, base, root);
                audit = audit(poisoned, scanner.score(auditPass.result()), auditRate);
                population = populationAudit(poisoned, HiddenStateScan.scan(m, HiddenStateScan.States.of(cleanPass), HiddenStateScan.States.of(auditPass),
                        HiddenStateScan.Settings.defaults(42).withFrr(frr)));
            }
            return new Result(m.directory().toString(), files, sizes, frr, List.copyOf(methods), audit, population, allFamiliesRate);
        }

        private void attentionRows(AttentionFeatures all, InputScanner.Settings base, Probe.Result cleanProbe, Probe.Result negProbe, Probe.Result tgtProbe,
                                   Probe.Result posProbe) {
            Map<String, Set<Family>> familySets = new LinkedHashMap<>();
            familySets.put("default (" + keys(all.defaults()) + ")", all.defaults());
            if (s.variants()) {
                familySets.put("default + sep-mass", EnumSet.of(Family.LAYER_COSINE, Family.HEAD_COSINE, Family.CLS_ENTROPY, Family.SEP_MASS));
                familySets.put("default + row-entropy + distance", EnumSet.of(Family.LAYER_COSINE, Family.HEAD_COSINE, Family.CLS_ENTROPY, Family.ROW_ENTROPY, Family.DISTANCE));
                familySets.put("all seven", EnumSet.allOf(Family.class));
                for (Family f : Family.values()) {
                    familySets.put(f.key, EnumSet.of(f));
                }
            }
            for (Map.Entry<String, Set<Family>> fs : familySets.entrySet()) {
                for (CleanProfile.Score score : s.variants() ? List.of(CleanProfile.Score.values()) : List.of(base.score())) {
                    for (boolean byClass : s.variants() ? new boolean[] {false, true} : new boolean[] {base.byClass()}) {
                        for (double lambda : s.variants() && score == CleanProfile.Score.MAHALANOBIS ? new double[] {0.5, 0.8} : new double[] {base.shrinkage()}) {
                            int[] cols = all.columnsOf(fs.getValue());
                            InputScanner.Settings set = base.withFamilies(fs.getValue()).withScore(score).withShrinkage(lambda).withByClass(byClass);
                            InputScanner scanner = InputScanner.calibrate(m, cleanProbe.select(cols), new AttentionFeatures(m.model().config(), fs.getValue()), set, root);
                            String name = "HeadGuard " + fs.getKey() + ", " + score.key + (score == CleanProfile.Score.MAHALANOBIS ? " λ=" + lambda : "")
                                    + (byClass ? ", by class" : "");
                            add(name, scanner.score(negProbe.select(cols)).scores(), scanner.score(tgtProbe.select(cols)).scores(),
                                    scanner.score(posProbe.select(cols)).scores(), scanner.threshold());
                        }
                    }
                }
            }
        }

        /** @param cleanSet the labelled clean set RAP trains on (null for prompts: RAP protects a class, and a decoder has none) */
        private void baselineRows(Dataset cleanSet, List<String> cleanTexts, List<String> negatives, List<String> targets, List<String> positives) {
            if (s.baselines().contains("none")) {
                return;
            }
            if (s.baselines().contains("strip")) {
                Strip strip = Strip.fit(cleanTexts, Strip.Settings.defaults());
                double[] cal = strip.scores(m, cleanTexts, root, 64, progress.apply("STRIP clean set"));
                double[] neg = strip.scores(m, negatives, root, 64, progress.apply("STRIP clean test"));
                double[] pos = strip.scores(m, positives, root, 64, progress.apply("STRIP triggered"));
                double[] tg = targets.isEmpty() ? new double[0] : strip.scores(m, targets, root, 64, progress.apply("STRIP clean test, target class"));
                add("STRIP (8 copies, 50% words swapped" + (cleanSet == null ? "; next-token entropy)" : ")"), neg, tg, pos, Roc.thresholdAtFrr(cal, frr));
            }
            if (s.baselines().contains("rap") && cleanSet != null) {
                try (Rap rap = Rap.train(m, cleanSet.texts(), cleanSet.labels(), Rap.Settings.defaults(s.target()), root)) {
                    double[] cal = rap.scores(cleanSet.texts(), 64, progress.apply("RAP clean set"));
                    double[] neg = rap.scores(negatives, 64, progress.apply("RAP clean test"));
                    double[] pos = rap.scores(positives, 64, progress.apply("RAP triggered"));
                    double[] tg = rap.scores(targets, 64, progress.apply("RAP clean test, target class"));
                    double[] tested = java.util.Arrays.stream(cal).filter(v -> v > Rap.PASSED).toArray(); // FRR over inputs RAP tests
                    add("RAP (word 'jj', protects label " + s.target() + (rap.skippedSteps() > 0 ? "; " + rap.skippedSteps() + " steps skipped: NaN" : "") + ")",
                            neg, tg, pos, Roc.thresholdAtFrr(tested, frr));
                }
            }
        }

        private Audit audit(Dataset poisoned, InputScanner.Scores sc, double rate) {
            int tp = 0;
            int truth = 0;
            List<Double> pos = new ArrayList<>();
            List<Double> neg = new ArrayList<>();
            for (int i = 0; i < poisoned.size(); i++) {
                boolean p = poisoned.examples().get(i).label() == 1;
                truth += p ? 1 : 0;
                tp += p && sc.flagged()[i] ? 1 : 0;
                (p ? pos : neg).add(sc.scores()[i]);
            }
            int flagged = sc.flaggedCount();
            double auroc = pos.isEmpty() || neg.isEmpty() ? Double.NaN
                    : Roc.auroc(neg.stream().mapToDouble(Double::doubleValue).toArray(), pos.stream().mapToDouble(Double::doubleValue).toArray());
            return new Audit(files.audit(), poisoned.size(), truth, flagged, flagged == 0 ? 0 : tp / (double) flagged, truth == 0 ? 0 : tp / (double) truth,
                    auroc, rate);
        }

        private PopulationAudit populationAudit(Dataset poisoned, HiddenStateScan.Result h) {
            int truth = 0;
            for (Example e : poisoned.examples()) {
                truth += e.label() == 1 ? 1 : 0;
            }
            double[] hpos = new double[truth];
            double[] hneg = new double[poisoned.size() - truth];
            for (int i = 0, a = 0, b = 0; i < poisoned.size(); i++) {
                if (poisoned.examples().get(i).label() == 1) {
                    hpos[a++] = h.margins()[i];
                } else {
                    hneg[b++] = h.margins()[i];
                }
            }
            int htp = 0;
            for (int i : h.flagged()) {
                htp += poisoned.examples().get(i).label() == 1 ? 1 : 0;
            }
            return new PopulationAudit(h.layer(), h.target(), h.flagged().size(), h.share(), h.flagged().isEmpty() ? 0 : htp / (double) h.flagged().size(),
                    truth == 0 ? 0 : htp / (double) truth, truth == 0 || truth == poisoned.size() ? Double.NaN : Roc.auroc(hneg, hpos));
        }

        /**
         * The output a decoder's filter looks for: the report's, or without one what `scan inputs` uses by
         * default (the continuation search on every clean prompt, seed 42, through the same cache), so that
         * the default filter's row is the command's.
         */
        private String elicitedTarget() {
            if (files.scanReport() != null) {
                return dev.headguard.report.ModelScanFile.elicitedTarget(files.scanReport());
            }
            return dev.headguard.report.ModelScanFile.cachedElicitedTarget(m, files.clean(), 0, PromptResponseFile.readPrompts(files.clean()), 42, root,
                    listener::stage);
        }

        /** Adds one method's line from its scores on the three test splits. */
        void add(String name, double[] neg, double[] targetClass, double[] pos, double threshold) {
            Method row = method(name, neg, targetClass, pos, threshold);
            methods.add(row);
            listener.method(row);
        }
    }

    static Method method(String name, double[] neg, double[] targetClass, double[] pos, double threshold) {
        double[] allClean = java.util.stream.DoubleStream.concat(java.util.Arrays.stream(neg), java.util.Arrays.stream(targetClass)).toArray();
        return new Method(name, Roc.auroc(neg, pos), 1 - Roc.flaggedShare(pos, threshold), Roc.flaggedShare(neg, threshold), threshold,
                Roc.auroc(allClean, pos), Roc.flaggedShare(allClean, threshold));
    }

    private static double[] column(float[][] p, int c) {
        double[] out = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            out[i] = p[i][c];
        }
        return out;
    }

    private static String keys(Set<Family> f) {
        return String.join("+", f.stream().map(x -> x.key).toList());
    }

    private static List<String> samplePrompts(List<String> prompts, int n) {
        return n > 0 && n < prompts.size() ? Sample.of(prompts, n, 7) : prompts;
    }

    private static Dataset sample(Dataset d, int n) {
        if (d.size() == 0) {
            throw new HeadGuardException("the clean set is empty");
        }
        return n > 0 && n < d.size() ? d.sample(n, 7) : d;
    }

    /** {@code String.format} in the root locale: rows' names carry numbers. */
    static String format(String pattern, Object... args) {
        return String.format(Locale.ROOT, pattern, args);
    }
}
