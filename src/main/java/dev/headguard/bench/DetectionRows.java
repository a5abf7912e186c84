package dev.headguard.bench;

import ai.djl.ndarray.NDManager;
import dev.headguard.detect.attention.AttentionFeatures;
import dev.headguard.detect.hidden.BatchAudit;
import dev.headguard.detect.hidden.CandidateDirection;
import dev.headguard.detect.hidden.CombinedFilter;
import dev.headguard.detect.hidden.HiddenDirection;
import dev.headguard.detect.hidden.HiddenStateScan;
import dev.headguard.detect.attention.InputScanner;
import dev.headguard.detect.attention.Probe;
import dev.headguard.model.io.ModelStore;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

import static dev.headguard.bench.DetectionBenchmark.format;

/**
 * The detection benchmark's hidden-state rows: directions, the population scan of the test batch, the
 * filter the scan's evidence chooses and the combined filter. Each scores the three test splits (clean
 * inputs of the other classes, of the target class, triggered inputs: {@code tests} in that order).
 */
final class DetectionRows {
    private DetectionRows() {}

    /** Receives one method's scores on the three splits. */
    interface Adder {
        void add(String name, double[] neg, double[] targetClass, double[] pos, double threshold);
    }

    /**
     * The hidden-state scan as an input detector, two ways: (1) inductive, the backdoor direction
     * learned from the suspects (the training set) and each test input scored on its own along it, the
     * way an inference-time filter would; (2) transductive, the clean and triggered test inputs scanned
     * together as one batch of traffic. Margins are in calibration standard deviations above the
     * threshold (flagged above 0); inputs not predicted as the scan's target class score −∞.
     * @return the suspects' direction at half the FRR (for the combined row), or null without suspects
     */
    static HiddenDirection hiddenState(Adder rows, ModelStore.LoadedModel m, AttentionFeatures all, InputScanner scanner, Probe.WithStates cleanPass,
                                       List<Probe.WithStates> tests, HiddenStateScan.States u, double frr) {
        HiddenDirection half = null;
        HiddenStateScan.Settings hs = HiddenStateScan.Settings.defaults(42).withFrr(frr);
        HiddenStateScan.States c = HiddenStateScan.States.of(cleanPass);
        HiddenStateScan.States neg = HiddenStateScan.States.of(tests.get(0));
        HiddenStateScan.States tgt = HiddenStateScan.States.of(tests.get(1));
        HiddenStateScan.States pos = HiddenStateScan.States.of(tests.get(2));
        if (u != null) {
            HiddenStateScan.Learned learned = HiddenStateScan.learn(m, c, u, hs);
            HiddenStateScan.Result r = learned.scan();
            String name = format("HeadGuard hidden-state direction from %d suspects (layer %d, class %d; %s)", u.predicted().length,
                    r.layer(), r.target(), r.found(frr, HiddenStateScan.MIN_EXCESS) ? "population found" : "no population");
            rows.add(name, learned.direction().margins(neg), learned.direction().margins(tgt), learned.direction().margins(pos), 0);
            half = HiddenStateScan.learn(m, c, u, hs.withFrr(frr / 2)).direction();
        }
        // The batch a filter would see: clean inputs of every class and the triggered ones.
        HiddenStateScan.States batch = HiddenStateScan.States.concat(HiddenStateScan.States.concat(neg, tgt), pos);
        HiddenStateScan.Result r = HiddenStateScan.scan(m, c, batch, hs);
        double[] margins = r.margins();
        int n = neg.predicted().length;
        int t = tgt.predicted().length;
        String name = format("HeadGuard population scan of the test inputs as one batch (layer %d, class %d; %s)",
                r.layer(), r.target(), r.found(frr, HiddenStateScan.MIN_EXCESS) ? "population found" : "no population");
        rows.add(name, Arrays.copyOfRange(margins, 0, n), Arrays.copyOfRange(margins, n, n + t), Arrays.copyOfRange(margins, n + t, margins.length), 0);
        batchAudit(rows, all, scanner, tests, r);
        return half;
    }

    /**
     * {@link BatchAudit}: the same batch, ranked by the attention scan or by the population scan,
     * whichever flags more of it (both at the FRR).
     */
    private static void batchAudit(Adder rows, AttentionFeatures all, InputScanner scanner, List<Probe.WithStates> parts, HiddenStateScan.Result pop) {
        int[] cols = all.columnsOf(all.defaults());
        List<double[]> scores = new ArrayList<>();
        List<int[]> predicted = new ArrayList<>();
        for (Probe.WithStates p : parts) {
            InputScanner.Scores part = scanner.score(p.result().select(cols));
            scores.add(part.scores());
            predicted.add(part.probe().predictions());
        }
        double[] batch = scores.stream().flatMapToDouble(Arrays::stream).toArray();
        int[] batchPredicted = predicted.stream().flatMapToInt(Arrays::stream).toArray();
        BatchAudit audit = BatchAudit.choose(scanner, batch, batchPredicted, pop);
        double[] s = audit.scores();
        int n = scores.get(0).length;
        int t = scores.get(1).length;
        String name = format("HeadGuard batch audit: %s scan chosen (flags %d; the other %d)", audit.chosen(),
                audit.population() ? audit.populationFlagged() : audit.attentionFlagged(), audit.population() ? audit.attentionFlagged() : audit.populationFlagged());
        rows.add(name, Arrays.copyOfRange(s, 0, n), Arrays.copyOfRange(s, n, n + t), Arrays.copyOfRange(s, n + t, s.length), 0);
    }

    /**
     * {@link CandidateDirection}: the direction learned from the clean set with the model scan's
     * evidence put in, each test input scored on its own along it; then the same direction at half
     * the FRR in the combined filter.
     */
    static void scanDirection(Adder rows, ModelStore.LoadedModel m, AttentionFeatures all, InputScanner scanner, List<String> cleanTexts, Probe.WithStates cleanPass,
                              List<Probe.WithStates> tests, List<CandidateDirection.Evidence> evidenceList, NDManager root,
                              Function<String, Probe.Progress> progress, double frr) {
        HiddenStateScan.Settings hs = HiddenStateScan.Settings.defaults(42).withFrr(frr);
        HiddenStateScan.States c = HiddenStateScan.States.of(cleanPass);
        CandidateDirection.Strongest strongest = CandidateDirection.strongest(m, cleanTexts, evidenceList, all, c, hs, root,
                e -> progress.apply("clean set carrying '" + e.text() + "'"));
        CandidateDirection.Evidence evidence = strongest.evidence();
        HiddenStateScan.Learned learned = strongest.learned();
        HiddenDirection d = learned.direction();
        String others = strongest.tried().stream().filter(t -> t.evidence() != evidence)
                .map(t -> format("; '%s' moved %d", t.evidence().text(), t.carriersFlagged())).collect(java.util.stream.Collectors.joining());
        String name = format("HeadGuard direction from the clean set carrying the scan's '%s'%s (layer %d, class %d; %s%s)", evidence.text(),
                evidence.firstWord() ? " as first word" : "", d.layer(), d.target(),
                learned.scan().found(frr, HiddenStateScan.MIN_EXCESS) ? "it moves " + learned.scan().flagged().size() : "no move", others);
        double[][] margins = new double[3][];
        for (int k = 0; k < 3; k++) {
            margins[k] = d.margins(HiddenStateScan.States.of(tests.get(k)));
        }
        rows.add(name, margins[0], margins[1], margins[2], 0);
        // The filter the carriers choose: attention scan or this direction, whichever flags more of them.
        int[] cols = all.columnsOf(all.defaults());
        CandidateDirection.Choice choice = CandidateDirection.Choice.of(scanner, strongest.carrierPass().result().select(cols), learned);
        double[][] score = new double[3][];
        for (int k = 0; k < 3; k++) {
            Probe.WithStates p = tests.get(k);
            score[k] = choice.scores(scanner, p.result().select(cols), d, HiddenStateScan.States.of(p));
        }
        rows.add(format("HeadGuard filter chosen by the scan's evidence: %s (carriers flagged: attention %d, direction %d)", choice.chosen(),
                choice.attentionFlagged(), choice.directionFlagged()), score[0], score[1], score[2], 0);
        combined(rows, m, all, cleanPass.result(), tests, HiddenStateScan.learnFromCarriers(m, c, strongest.carriers(), hs.withFrr(frr / 2)).direction(), root,
                "the scan's direction", frr);
    }

    /** {@link CombinedFilter}: the attention scan or a hidden-state direction, each at half the FRR, as one score. */
    static void combined(Adder rows, ModelStore.LoadedModel m, AttentionFeatures all, Probe.Result cleanProbe, List<Probe.WithStates> tests,
                         HiddenDirection half, NDManager root, String directionName, double frr) {
        int[] cols = all.columnsOf(all.defaults());
        InputScanner.Settings s = InputScanner.Settings.defaults().withFrr(frr / 2);
        InputScanner scanner = InputScanner.calibrate(m, cleanProbe.select(cols), new AttentionFeatures(m.model().config(), all.defaults()), s, root);
        CombinedFilter filter = new CombinedFilter(scanner, half);
        double[][] score = new double[3][];
        for (int k = 0; k < 3; k++) {
            Probe.WithStates p = tests.get(k);
            score[k] = filter.scores(p.result().select(cols), HiddenStateScan.States.of(p));
        }
        rows.add("HeadGuard combined: attention scan or " + directionName + ", each at FRR/2", score[0], score[1], score[2], 0);
    }
}
