package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.HeadGuardException;
import dev.headguard.detect.AttentionFeatures;
import dev.headguard.detect.AttentionFeatures.Family;
import dev.headguard.detect.BatchAudit;
import dev.headguard.detect.CandidateDirection;
import dev.headguard.detect.CleanProfile;
import dev.headguard.detect.CombinedFilter;
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
import dev.headguard.text.SentenceFile;
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
 *
 * <p>Two protocols: the literature's (triggered inputs against the clean inputs of the other
 * classes), where the model's own prediction already separates most of them (the reference row), and
 * triggered inputs against every clean input, the target class's included — what a filter faces.
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

    @Option(names = "--suspect", paramLabel = "FILE", description = {"Unlabelled suspect inputs (the model's training set, logged traffic) to learn the hidden-state",
            "direction from, then score the test inputs along it, one by one (default: the --audit file, when given)."})
    Path suspect;

    @Option(names = "--scan", paramLabel = "REPORT", description = {"A 'scan model --out' report of the victim: also score the test inputs along the direction",
            "learned from the clean set with the scan's strongest evidence put in (dev set only), alone and combined with the attention scan."})
    Path scanReport;

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
        List<String> targets = new ArrayList<>(); // clean inputs of the target class: what a filter also sees, and must pass
        for (Example e : testSet.examples()) {
            (e.label() != target ? negatives : targets).add(e.text());
        }
        if (negatives.isEmpty() || targets.isEmpty()) {
            throw new HeadGuardException(test + ": the clean test set needs rows of label " + target + " and of other labels");
        }
        List<String> positives = DatasetReader.read(triggered, DatasetReader.Options.defaults()).texts();
        if (limit > 0) {
            negatives = sampleTexts(negatives, limit);
            targets = sampleTexts(targets, limit);
            positives = sampleTexts(positives, limit);
        }
        ObjectMapper om = new ObjectMapper();
        ObjectNode report = om.createObjectNode();
        report.put("model", model.directory().toString());
        report.put("clean", clean.toString()).put("test", test.toString()).put("triggered", triggered.toString());
        report.put("clean_rows", cleanSet.size()).put("negatives", negatives.size()).put("target_class_clean", targets.size()).put("positives", positives.size()).put("frr", frr);
        ArrayNode rows = report.putArray("methods");
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = model.load(root)) {
            AttentionFeatures all = new AttentionFeatures(m.model().config(), EnumSet.allOf(Family.class));
            InputScanner.Settings base = InputScanner.Settings.defaults().withFrr(frr);
            // One pass each: the attention features and the hidden states the population rows need.
            Probe.WithStates cleanPass = Probe.runWithStates(m, cleanSet.texts(), all, root, 32, new StageProgress("clean set"));
            long t0 = System.nanoTime();
            Probe.WithStates negPass = Probe.runWithStates(m, negatives, all, root, 32, new StageProgress("clean test inputs"));
            Probe.WithStates posPass = Probe.runWithStates(m, positives, all, root, 32, new StageProgress("triggered inputs"));
            Probe.WithStates tgtPass = Probe.runWithStates(m, targets, all, root, 32, new StageProgress("clean test inputs of the target class"));
            Probe.Result tgtProbe = tgtPass.result();
            Probe.Result cleanProbe = cleanPass.result();
            Probe.Result negProbe = negPass.result();
            Probe.Result posProbe = posPass.result();
            double allFamiliesRate = (negatives.size() + positives.size()) / ((System.nanoTime() - t0) / 1e9);
            System.out.printf(Locale.ROOT, "%s: %d clean-set rows, %d clean test inputs (label != %d), %d triggered; FRR %.2f%n",
                    m.directory(), cleanSet.size(), negatives.size(), target, positives.size(), frr);
            System.out.printf(Locale.ROOT, "%-70s %7s %7s %9s %10s %9s%n", "method", "AUROC", "FAR", "test FRR", "AUROC all", "FRR all");
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
                        double[] tg = scanner.score(tgtProbe.select(cols)).scores();
                        String name = "HeadGuard " + fs.getKey() + ", " + score.key + (score == CleanProfile.Score.MAHALANOBIS ? " λ=" + lambda : "") + (byClass ? ", by class" : "");
                        row(rows, name, neg, tg, pos, scanner.threshold());
                    }
                }
            }
            // One pass over the audited training set serves its attention audit, its population audit and,
            // when no other suspects are named, the direction the test inputs are scored along.
            Dataset poisoned = audit == null ? null
                    : DatasetReader.read(audit, new DatasetReader.Options(null, "sentence", "poisoned", true, List.of(), DatasetReader.OnBadRow.FAIL));
            AttentionFeatures defaults = new AttentionFeatures(m.model().config(), AttentionFeatures.DEFAULT);
            Probe.WithStates auditPass = null;
            double auditRate = 0;
            if (poisoned != null) {
                long a0 = System.nanoTime();
                auditPass = Probe.runWithStates(m, poisoned.texts(), defaults, root, 32, new StageProgress("audit"));
                auditRate = poisoned.size() / ((System.nanoTime() - a0) / 1e9);
            }
            HiddenStateScan.States suspects = null;
            if (suspect != null) {
                List<String> texts = SentenceFile.readSentences(suspect); // unlabelled: a label column is not needed
                suspects = HiddenStateScan.States.of(Probe.runWithStates(m, texts, null, root, 32, new StageProgress("suspects, hidden states")));
            } else if (auditPass != null) {
                suspects = HiddenStateScan.States.of(auditPass);
            }
            // The default attention scan at the FRR, calibrated once for the rows that choose between it and a direction.
            InputScanner defaultScanner = InputScanner.calibrate(m, cleanProbe.select(all.columnsOf(AttentionFeatures.DEFAULT)), defaults, base, root);
            HiddenStateScan.Direction half = hiddenStateRows(rows, m, all, defaultScanner, cleanPass, negPass, tgtPass, posPass, suspects);
            if (half != null) {
                combinedRow(rows, m, all, cleanProbe, negPass, tgtPass, posPass, half, root, "hidden-state direction");
            }
            if (scanReport != null) {
                scanDirectionRows(rows, m, all, defaultScanner, cleanSet.texts(), cleanPass, negPass, tgtPass, posPass, dev.headguard.report.ModelScanFile.evidence(scanReport), root);
            }
            // What the prediction alone gives: the hidden-state rows score only inputs predicted as the
            // target, so this says how much of their AUROC the direction adds to the predicted class.
            row(rows, "reference: the victim's probability of label " + target + " (no defense)", column(negProbe.probabilities(), target),
                    column(tgtProbe.probabilities(), target), column(posProbe.probabilities(), target),
                    Roc.thresholdAtFrr(column(cleanProbe.probabilities(), target), frr));
            if (!baselines.contains("none")) {
                if (baselines.contains("strip")) {
                    Strip strip = Strip.fit(cleanSet.texts(), Strip.Settings.defaults());
                    double[] cal = strip.scores(m, cleanSet.texts(), root, 64, new StageProgress("STRIP clean set"));
                    double[] neg = strip.scores(m, negatives, root, 64, new StageProgress("STRIP clean test"));
                    double[] pos = strip.scores(m, positives, root, 64, new StageProgress("STRIP triggered"));
                    double[] tg = strip.scores(m, targets, root, 64, new StageProgress("STRIP clean test, target class"));
                    row(rows, "STRIP (8 copies, 50% words swapped)", neg, tg, pos, Roc.thresholdAtFrr(cal, frr));
                }
                if (baselines.contains("rap")) {
                    try (Rap rap = Rap.train(m, cleanSet.texts(), cleanSet.labels(), Rap.Settings.defaults(target), root)) {
                        double[] cal = rap.scores(cleanSet.texts(), 64, new StageProgress("RAP clean set"));
                        double[] neg = rap.scores(negatives, 64, new StageProgress("RAP clean test"));
                        double[] pos = rap.scores(positives, 64, new StageProgress("RAP triggered"));
                        double[] tg = rap.scores(targets, 64, new StageProgress("RAP clean test, target class"));
                        double[] tested = java.util.Arrays.stream(cal).filter(v -> v > Rap.PASSED).toArray(); // FRR over inputs RAP tests
                        row(rows, "RAP (word 'jj', protects label " + target + (rap.skippedSteps() > 0 ? "; " + rap.skippedSteps() + " steps skipped: NaN" : "") + ")",
                                neg, tg, pos, Roc.thresholdAtFrr(tested, frr));
                    }
                }
            }
            if (poisoned != null) {
                int[] cols = all.columnsOf(AttentionFeatures.DEFAULT);
                InputScanner scanner = InputScanner.calibrate(m, cleanProbe.select(cols), defaults, base, root);
                InputScanner.Scores s = scanner.score(auditPass.result());
                double rate = auditRate;
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
                HiddenStateScan.Result h = HiddenStateScan.scan(m, HiddenStateScan.States.of(cleanPass), HiddenStateScan.States.of(auditPass), hs);
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

    /**
     * The hidden-state scan as an input detector, two ways: (1) inductive, the backdoor direction
     * learned from the suspects (the training set) and each test input scored on its own along it, the
     * way an inference-time filter would; (2) transductive, the clean and triggered test inputs scanned
     * together as one batch of traffic. Margins are in calibration standard deviations above the
     * threshold (flagged above 0); inputs not predicted as the scan's target class score −∞.
     */
    private HiddenStateScan.Direction hiddenStateRows(ArrayNode rows, ModelStore.LoadedModel m, AttentionFeatures all, InputScanner scanner, Probe.WithStates cleanPass,
                                                     Probe.WithStates negPass, Probe.WithStates tgtPass, Probe.WithStates posPass, HiddenStateScan.States u) {
        HiddenStateScan.Direction half = null;
        HiddenStateScan.Settings hs = HiddenStateScan.Settings.defaults(42).withFrr(frr);
        HiddenStateScan.States c = HiddenStateScan.States.of(cleanPass);
        HiddenStateScan.States neg = HiddenStateScan.States.of(negPass);
        HiddenStateScan.States pos = HiddenStateScan.States.of(posPass);
        HiddenStateScan.States tgt = HiddenStateScan.States.of(tgtPass);
        if (u != null) {
            HiddenStateScan.Learned learned = HiddenStateScan.learn(m, c, u, hs);
            HiddenStateScan.Result r = learned.scan();
            String name = String.format(Locale.ROOT, "HeadGuard hidden-state direction from %d suspects (layer %d, class %d; %s)", u.predicted().length,
                    r.layer(), r.target(), r.found(frr, HiddenStateScan.MIN_EXCESS) ? "population found" : "no population");
            row(rows, name, learned.direction().margins(neg), learned.direction().margins(tgt), learned.direction().margins(pos), 0);
            half = HiddenStateScan.learn(m, c, u, hs.withFrr(frr / 2)).direction();
        }
        // The batch a filter would see: clean inputs of every class and the triggered ones.
        HiddenStateScan.States batch = HiddenStateScan.States.concat(HiddenStateScan.States.concat(neg, tgt), pos);
        HiddenStateScan.Result r = HiddenStateScan.scan(m, c, batch, hs);
        double[] margins = r.margins();
        int n = neg.predicted().length;
        int t = tgt.predicted().length;
        String name = String.format(Locale.ROOT, "HeadGuard population scan of the test inputs as one batch (layer %d, class %d; %s)",
                r.layer(), r.target(), r.found(frr, HiddenStateScan.MIN_EXCESS) ? "population found" : "no population");
        row(rows, name, java.util.Arrays.copyOfRange(margins, 0, n), java.util.Arrays.copyOfRange(margins, n, n + t),
                java.util.Arrays.copyOfRange(margins, n + t, margins.length), 0);
        batchAuditRow(rows, all, scanner, List.of(negPass, tgtPass, posPass), r);
        return half;
    }

    /**
     * {@link BatchAudit}: the same batch, ranked by the attention scan or by the population scan,
     * whichever flags more of it (both at the FRR).
     */
    private void batchAuditRow(ArrayNode rows, AttentionFeatures all, InputScanner scanner, List<Probe.WithStates> parts, HiddenStateScan.Result pop) {
        int[] cols = all.columnsOf(AttentionFeatures.DEFAULT);
        List<double[]> scores = new ArrayList<>();
        List<int[]> predicted = new ArrayList<>();
        for (Probe.WithStates p : parts) {
            InputScanner.Scores part = scanner.score(p.result().select(cols));
            scores.add(part.scores());
            predicted.add(part.probe().predictions());
        }
        double[] batch = scores.stream().flatMapToDouble(java.util.Arrays::stream).toArray();
        int[] batchPredicted = predicted.stream().flatMapToInt(java.util.Arrays::stream).toArray();
        BatchAudit audit = BatchAudit.choose(scanner, batch, batchPredicted, pop);
        double[] s = audit.scores();
        int n = scores.get(0).length;
        int t = scores.get(1).length;
        String name = String.format(Locale.ROOT, "HeadGuard batch audit: %s scan chosen (flags %d; the other %d)", audit.chosen(),
                audit.population() ? audit.populationFlagged() : audit.attentionFlagged(), audit.population() ? audit.attentionFlagged() : audit.populationFlagged());
        row(rows, name, java.util.Arrays.copyOfRange(s, 0, n), java.util.Arrays.copyOfRange(s, n, n + t), java.util.Arrays.copyOfRange(s, n + t, s.length), 0);
    }

    /**
     * {@link CandidateDirection}: the direction learned from the clean set with the model scan's
     * evidence put in, each test input scored on its own along it; then the same direction at half
     * the FRR in the combined filter.
     */
    private void scanDirectionRows(ArrayNode rows, ModelStore.LoadedModel m, AttentionFeatures all, InputScanner scanner, List<String> cleanTexts, Probe.WithStates cleanPass,
                                   Probe.WithStates negPass, Probe.WithStates tgtPass, Probe.WithStates posPass, List<CandidateDirection.Evidence> evidenceList,
                                   NDManager root) {
        HiddenStateScan.Settings hs = HiddenStateScan.Settings.defaults(42).withFrr(frr);
        HiddenStateScan.States c = HiddenStateScan.States.of(cleanPass);
        CandidateDirection.Strongest strongest = CandidateDirection.strongest(m, cleanTexts, evidenceList, all, c, hs, root,
                e -> new StageProgress("clean set carrying '" + e.text() + "'"));
        CandidateDirection.Evidence evidence = strongest.evidence();
        Probe.WithStates carrierPass = strongest.carrierPass();
        HiddenStateScan.States carriers = strongest.carriers();
        HiddenStateScan.Learned learned = strongest.learned();
        HiddenStateScan.Direction d = learned.direction();
        String others = strongest.tried().stream().filter(t -> t.evidence() != evidence)
                .map(t -> String.format(Locale.ROOT, "; '%s' moved %d", t.evidence().text(), t.carriersFlagged())).collect(java.util.stream.Collectors.joining());
        String name = String.format(Locale.ROOT, "HeadGuard direction from the clean set carrying the scan's '%s'%s (layer %d, class %d; %s%s)", evidence.text(),
                evidence.firstWord() ? " as first word" : "", d.layer(), d.target(),
                learned.scan().found(frr, HiddenStateScan.MIN_EXCESS) ? "it moves " + learned.scan().flagged().size() : "no move", others);
        row(rows, name, d.margins(HiddenStateScan.States.of(negPass)), d.margins(HiddenStateScan.States.of(tgtPass)), d.margins(HiddenStateScan.States.of(posPass)), 0);
        // The filter the carriers choose: attention scan or this direction, whichever flags more of them.
        int[] cols = all.columnsOf(AttentionFeatures.DEFAULT);
        CandidateDirection.Choice choice = CandidateDirection.Choice.of(scanner, carrierPass.result().select(cols), learned);
        double[][] score = new double[3][];
        int k = 0;
        for (Probe.WithStates p : List.of(negPass, tgtPass, posPass)) {
            score[k++] = choice.scores(scanner, p.result().select(cols), d, HiddenStateScan.States.of(p));
        }
        row(rows, String.format(Locale.ROOT, "HeadGuard filter chosen by the scan's evidence: %s (carriers flagged: attention %d, direction %d)", choice.chosen(),
                choice.attentionFlagged(), choice.directionFlagged()), score[0], score[1], score[2], 0);
        combinedRow(rows, m, all, cleanPass.result(), negPass, tgtPass, posPass, HiddenStateScan.learn(m, c, carriers, hs.withFrr(frr / 2)).direction(), root,
                "the scan's direction");
    }

    /** {@link CombinedFilter}: the attention scan or a hidden-state direction, each at half the FRR, as one score. */
    private void combinedRow(ArrayNode rows, ModelStore.LoadedModel m, AttentionFeatures all, Probe.Result cleanProbe, Probe.WithStates neg,
                             Probe.WithStates tgt, Probe.WithStates pos, HiddenStateScan.Direction half, NDManager root, String directionName) {
        int[] cols = all.columnsOf(AttentionFeatures.DEFAULT);
        InputScanner.Settings s = InputScanner.Settings.defaults().withFrr(frr / 2);
        InputScanner scanner = InputScanner.calibrate(m, cleanProbe.select(cols), new AttentionFeatures(m.model().config(), AttentionFeatures.DEFAULT), s, root);
        CombinedFilter filter = new CombinedFilter(scanner, half);
        double[][] score = new double[3][];
        int k = 0;
        for (Probe.WithStates p : List.of(neg, tgt, pos)) {
            score[k++] = filter.scores(p.result().select(cols), HiddenStateScan.States.of(p));
        }
        row(rows, "HeadGuard combined: attention scan or " + directionName + ", each at FRR/2", score[0], score[1], score[2], 0);
    }

    /**
     * One method's line: AUROC and test FRR against the clean inputs of the other classes (the
     * literature's protocol), FAR on the triggered ones, and the same AUROC and FRR against every
     * clean test input, the target class's included: what an input filter faces, where flagging
     * whatever the model calls the target is no help.
     */
    private void row(ArrayNode rows, String name, double[] neg, double[] targetClass, double[] pos, double threshold) {
        double auroc = Roc.auroc(neg, pos);
        double far = 1 - Roc.flaggedShare(pos, threshold);
        double testFrr = Roc.flaggedShare(neg, threshold);
        double[] allClean = java.util.stream.DoubleStream.concat(java.util.Arrays.stream(neg), java.util.Arrays.stream(targetClass)).toArray();
        double aurocAll = Roc.auroc(allClean, pos);
        double frrAll = Roc.flaggedShare(allClean, threshold);
        System.out.printf(Locale.ROOT, "%-70s %7.4f %7.4f %9.4f %10.4f %9.4f%n", name, auroc, far, testFrr, aurocAll, frrAll);
        rows.addObject().put("method", name).put("auroc", auroc).put("far", far).put("test_frr", testFrr).put("threshold", threshold)
                .put("auroc_all_clean", aurocAll).put("test_frr_all_clean", frrAll);
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
