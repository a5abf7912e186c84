package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.HeadGuardException;
import dev.headguard.detect.AttentionFeatures;
import dev.headguard.detect.AttentionFeatures.Family;
import dev.headguard.detect.CleanProfile;
import dev.headguard.detect.HiddenStateScan;
import dev.headguard.detect.InputScanner;
import dev.headguard.detect.Probe;
import dev.headguard.detect.Rap;
import dev.headguard.detect.Roc;
import dev.headguard.detect.Strip;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Dataset;
import dev.headguard.text.DatasetReader;
import dev.headguard.text.Example;
import dev.headguard.text.Sample;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * Input-detection benchmark on one victim: clean test inputs of the non-target classes against
 * their triggered counterparts, scored by HeadGuard's variants (feature families x distance) and
 * by the STRIP and RAP baselines, each calibrated on the same clean set at the same FRR.
 * Optionally audits a poisoned training set (a 'poisoned' column is the ground truth).
 */
@Command(name = "detect", description = "AUROC and FAR at a fixed FRR of HeadGuard's input scores against STRIP and RAP on one victim.")
final class BenchDetect implements Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Option(names = "--clean", required = true, paramLabel = "FILE", description = "The defender's clean set (sentence, label), e.g. SST-2 dev.")
    Path clean;

    @Option(names = "--test", required = true, paramLabel = "FILE", description = "Clean test set (sentence, label); rows of the target label are left out.")
    Path test;

    @Option(names = "--triggered", required = true, paramLabel = "FILE", description = "Triggered test inputs (sentence column).")
    Path triggered;

    @Option(names = "--target", defaultValue = "1", description = "The attacker's label (default: ${DEFAULT-VALUE}); RAP protects it.")
    int target;

    @Option(names = "--audit", paramLabel = "FILE", description = "A poisoned training set with a 'poisoned' column: precision and recall of the flagged rows.")
    Path audit;

    @Option(names = "--limit", defaultValue = "0", description = "Seeded sample of N clean-set rows, N test rows and N triggered rows (0: all).")
    int limit;

    @Option(names = "--frr", defaultValue = "0.05", description = "False-rejection rate thresholds are set for (default: ${DEFAULT-VALUE}).")
    double frr;

    @Option(names = "--baselines", split = ",", defaultValue = "strip,rap", description = "Baselines to run: strip, rap, none (default: ${DEFAULT-VALUE}).")
    List<String> baselines;

    @Option(names = "--variants", description = "Also score every feature family and distance, not only the default.")
    boolean variants;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.")
    Path json;

    @Override
    public Integer call() throws Exception {
        Dataset cleanSet = sample(DatasetReader.read(clean), limit);
        Dataset testSet = DatasetReader.read(test);
        List<String> negatives = new ArrayList<>();
        for (Example e : testSet.examples()) {
            if (e.label() != target) {
                negatives.add(e.text());
            }
        }
        List<String> positives = DatasetReader.read(triggered, DatasetReader.Options.defaults()).texts();
        if (limit > 0) {
            negatives = sampleTexts(negatives, limit);
            positives = sampleTexts(positives, limit);
        }
        ObjectMapper om = new ObjectMapper();
        ObjectNode report = om.createObjectNode();
        report.put("model", model.directory().toString());
        report.put("clean", clean.toString()).put("test", test.toString()).put("triggered", triggered.toString());
        report.put("clean_rows", cleanSet.size()).put("negatives", negatives.size()).put("positives", positives.size()).put("frr", frr);
        ArrayNode rows = report.putArray("methods");
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = model.load(root)) {
            AttentionFeatures all = new AttentionFeatures(m.model().config(), EnumSet.allOf(Family.class));
            InputScanner.Settings base = InputScanner.Settings.defaults().withFrr(frr);
            Probe.Result cleanProbe = Probe.run(m, cleanSet.texts(), all, root, 32, new StageProgress("clean set"));
            long t0 = System.nanoTime();
            Probe.Result negProbe = Probe.run(m, negatives, all, root, 32, new StageProgress("clean test inputs"));
            Probe.Result posProbe = Probe.run(m, positives, all, root, 32, new StageProgress("triggered inputs"));
            double allFamiliesRate = (negatives.size() + positives.size()) / ((System.nanoTime() - t0) / 1e9);
            System.out.printf(Locale.ROOT, "%s: %d clean-set rows, %d clean test inputs (label != %d), %d triggered; FRR %.2f%n",
                    m.directory(), cleanSet.size(), negatives.size(), target, positives.size(), frr);
            System.out.printf(Locale.ROOT, "%-70s %7s %7s %9s%n", "method", "AUROC", "FAR", "test FRR");
            Map<String, Set<Family>> familySets = new LinkedHashMap<>();
            familySets.put("default (" + keys(AttentionFeatures.DEFAULT) + ")", AttentionFeatures.DEFAULT);
            if (variants) {
                familySets.put("default + sep-mass", EnumSet.of(Family.LAYER_COSINE, Family.HEAD_COSINE, Family.CLS_ENTROPY, Family.SEP_MASS));
                familySets.put("default + row-entropy + distance", EnumSet.of(Family.LAYER_COSINE, Family.HEAD_COSINE, Family.CLS_ENTROPY, Family.ROW_ENTROPY, Family.DISTANCE));
                familySets.put("all seven", EnumSet.allOf(Family.class));
                for (Family f : Family.values()) {
                    familySets.put(f.key, EnumSet.of(f));
                }
                
            }
            for (Map.Entry<String, Set<Family>> fs : familySets.entrySet()) {
                for (CleanProfile.Score score : variants ? List.of(CleanProfile.Score.values()) : List.of(base.score())) {
                    for (boolean byClass : variants ? new boolean[] {false, true} : new boolean[] {base.byClass()})
                    for (double lambda : variants && score == CleanProfile.Score.MAHALANOBIS ? new double[] {0.5, 0.8} : new double[] {base.shrinkage()}) {
                        int[] cols = all.columnsOf(fs.getValue());
                        InputScanner.Settings s = base.withFamilies(fs.getValue()).withScore(score).withShrinkage(lambda).withByClass(byClass);
                        InputScanner scanner = InputScanner.calibrate(m, cleanProbe.select(cols), new AttentionFeatures(m.model().config(), fs.getValue()), s, root);
                        double[] neg = scanner.score(negProbe.select(cols)).scores();
                        double[] pos = scanner.score(posProbe.select(cols)).scores();
                        String name = "HeadGuard " + fs.getKey() + ", " + score.key + (score == CleanProfile.Score.MAHALANOBIS ? " λ=" + lambda : "") + (byClass ? ", by class" : "");
                        row(rows, name, neg, pos, scanner.threshold());
                    }
                }
            }
            if (!baselines.contains("none")) {
                if (baselines.contains("strip")) {
                    Strip strip = Strip.fit(cleanSet.texts(), Strip.Settings.defaults());
                    double[] cal = strip.scores(m, cleanSet.texts(), root, 64, new StageProgress("STRIP clean set"));
                    double[] neg = strip.scores(m, negatives, root, 64, new StageProgress("STRIP clean test"));
                    double[] pos = strip.scores(m, positives, root, 64, new StageProgress("STRIP triggered"));
                    row(rows, "STRIP (8 copies, 50% words swapped)", neg, pos, Roc.thresholdAtFrr(cal, frr));
                }
                if (baselines.contains("rap")) {
                    try (Rap rap = Rap.train(m, cleanSet.texts(), cleanSet.labels(), Rap.Settings.defaults(target), root)) {
                        double[] cal = rap.scores(cleanSet.texts(), 64, new StageProgress("RAP clean set"));
                        double[] neg = rap.scores(negatives, 64, new StageProgress("RAP clean test"));
                        double[] pos = rap.scores(positives, 64, new StageProgress("RAP triggered"));
                        double[] tested = java.util.Arrays.stream(cal).filter(v -> v > Rap.PASSED).toArray(); // FRR over inputs RAP tests
                        row(rows, "RAP (word 'jj', protects label " + target + (rap.skippedSteps() > 0 ? "; " + rap.skippedSteps() + " steps skipped: NaN" : "") + ")",
                                neg, pos, Roc.thresholdAtFrr(tested, frr));
                    }
                }
            }
            if (audit != null) {
                Dataset poisoned = DatasetReader.read(audit, new DatasetReader.Options(null, "sentence", "poisoned", true, List.of(), DatasetReader.OnBadRow.FAIL));
                int[] cols = all.columnsOf(AttentionFeatures.DEFAULT);
                InputScanner scanner = InputScanner.calibrate(m, cleanProbe.select(cols), new AttentionFeatures(m.model().config(), AttentionFeatures.DEFAULT), base, root);
                long a0 = System.nanoTime();
                InputScanner.Scores s = scanner.score(poisoned.texts(), new StageProgress("audit"));
                double rate = poisoned.size() / ((System.nanoTime() - a0) / 1e9);
                int tp = 0;
                int flagged = s.flaggedCount();
                int truth = 0;
                List<Double> pos = new ArrayList<>();
                List<Double> neg = new ArrayList<>();
                for (int i = 0; i < poisoned.size(); i++) {
                    boolean p = poisoned.examples().get(i).label() == 1;
                    truth += p ? 1 : 0;
                    tp += p && s.flagged()[i] ? 1 : 0;
                    (p ? pos : neg).add(s.scores()[i]);
                }
                double precision = flagged == 0 ? 0 : tp / (double) flagged;
                double recall = truth == 0 ? 0 : tp / (double) truth;
                double auroc = pos.isEmpty() || neg.isEmpty() ? Double.NaN
                        : Roc.auroc(neg.stream().mapToDouble(Double::doubleValue).toArray(), pos.stream().mapToDouble(Double::doubleValue).toArray());
                System.out.printf(Locale.ROOT, "audit of %s: %d rows, %d poisoned; flagged %d; precision %.3f, recall %.3f, AUROC %.4f; %.1f rows/s%n",
                        audit, poisoned.size(), truth, flagged, precision, recall, auroc, rate);
                report.putObject("audit").put("file", audit.toString()).put("rows", poisoned.size()).put("poisoned", truth).put("flagged", flagged)
                        .put("precision", precision).put("recall", recall).put("auroc", auroc).put("rows_per_second", rate);
                // The same rows as one population: the hidden-state scan that `repair --suspect` uses.
                HiddenStateScan.Settings hs = HiddenStateScan.Settings.defaults(42).withFrr(frr);
                HiddenStateScan.Result h = HiddenStateScan.scan(m, cleanSet.texts(), poisoned.texts(), hs, root, new StageProgress("audit, hidden states"));
                int htp = 0;
                double[] hpos = new double[truth];
                double[] hneg = new double[poisoned.size() - truth];
                for (int i = 0, a = 0, b = 0; i < poisoned.size(); i++) {
                    boolean p = poisoned.examples().get(i).label() == 1;
                    if (p) {
                        hpos[a++] = h.margins()[i];
                    } else {
                        hneg[b++] = h.margins()[i];
                    }
                }
                for (int i : h.flagged()) {
                    htp += poisoned.examples().get(i).label() == 1 ? 1 : 0;
                }
                double hPrecision = h.flagged().isEmpty() ? 0 : htp / (double) h.flagged().size();
                double hRecall = truth == 0 ? 0 : htp / (double) truth;
                double hAuroc = truth == 0 || truth == poisoned.size() ? Double.NaN : Roc.auroc(hneg, hpos);
                System.out.printf(Locale.ROOT, "audit as a population (hidden-state shift, layer %d, class %d): flagged %d (%.1f%% of the rows predicted %d);"
                                + " precision %.3f, recall %.3f, AUROC %.4f%n", h.layer(), h.target(), h.flagged().size(), 100 * h.share(), h.target(),
                        hPrecision, hRecall, hAuroc);
                report.putObject("audit_hidden_state").put("layer", h.layer()).put("target", h.target()).put("flagged", h.flagged().size())
                        .put("share", h.share()).put("precision", hPrecision).put("recall", hRecall).put("auroc", hAuroc);
            }
            System.out.printf(Locale.ROOT, "probe throughput (all families, attention maps): %.1f sentences/s%n", allFamiliesRate);
            report.put("probe_sentences_per_second", allFamiliesRate);
        }
        if (json != null) {
            dev.headguard.AtomicFiles.write(json, om.writerWithDefaultPrettyPrinter().writeValueAsBytes(report));
        }
        return 0;
    }

    private void row(ArrayNode rows, String name, double[] neg, double[] pos, double threshold) {
        double auroc = Roc.auroc(neg, pos);
        double far = 1 - Roc.flaggedShare(pos, threshold);
        double testFrr = Roc.flaggedShare(neg, threshold);
        System.out.printf(Locale.ROOT, "%-70s %7.4f %7.4f %9.4f%n", name, auroc, far, testFrr);
        rows.addObject().put("method", name).put("auroc", auroc).put("far", far).put("test_frr", testFrr).put("threshold", threshold);
    }

    private static String keys(Set<Family> f) {
        return String.join("+", f.stream().map(x -> x.key).toList());
    }

    private static Dataset sample(Dataset d, int n) {
        if (d.size() == 0) {
            throw new HeadGuardException("the clean set is empty");
        }
        return n > 0 && n < d.size() ? d.sample(n, 7) : d;
    }

    private static List<String> sampleTexts(List<String> t, int n) {
        return Sample.of(t, n, 7);
    }
}
