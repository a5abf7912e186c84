package dev.headguard.detect;

import dev.headguard.detect.attention.AttentionFeatures;
import dev.headguard.detect.attention.InputScanner;
import dev.headguard.detect.attention.Probe;
import dev.headguard.detect.hidden.BatchAudit;
import dev.headguard.detect.hidden.CandidateDirection;
import dev.headguard.detect.hidden.CombinedFilter;
import dev.headguard.detect.hidden.HiddenStateScan;

import ai.djl.ndarray.NDManager;
import dev.headguard.model.io.ModelStore;

import java.util.List;
import java.util.function.Function;

/**
 * Scoring inputs against a clean set, every way HeadGuard can: the attention scan always; on request
 * the inputs as one population ({@link HiddenStateScan}, with the {@link BatchAudit} choice), a
 * direction learned from suspect inputs, a direction learned from the clean texts carrying a model
 * scan's evidence (with the per-input filter it chooses, {@link CandidateDirection.Choice}), and the
 * {@link CombinedFilter} that holds the false-rejection rate across both kinds of trigger. One pass
 * over the clean texts and one over the inputs serve them all. What {@code scan inputs} runs.
 */
public final class InputAudit {

    /**
     * @param population scan the inputs as one population too
     * @param suspects   unlabelled texts to learn a population's direction from (null: none)
     * @param evidence   a model scan's evidence to learn a direction from the clean set (null: none)
     * @param combined   also the combined filter (needs suspects or evidence; the suspects' direction when both)
     */
    public record Request(List<String> clean, List<String> inputs, InputScanner.Settings settings, HiddenStateScan.Settings hidden,
                          boolean population, List<String> suspects, List<CandidateDirection.Evidence> evidence, boolean combined) {
        public Request {
            clean = List.copyOf(clean);
            inputs = List.copyOf(inputs);
            suspects = suspects == null ? null : List.copyOf(suspects);
            evidence = evidence == null ? null : List.copyOf(evidence);
            if (combined && suspects == null && evidence == null) {
                throw new IllegalArgumentException("the combined filter needs suspects or a scan's evidence");
            }
        }

        /** The hidden states are needed by every scan but the attention scan. */
        boolean states() {
            return population || suspects != null || evidence != null;
        }
    }

    /** The inputs as one population, and the batch's choice between it and the attention scan. */
    public record Population(HiddenStateScan.Result scan, BatchAudit batch) {}

    /** The direction learned from suspects, and each input's margin along it (flagged above 0). */
    public record SuspectDirection(int suspects, HiddenStateScan.Learned learned, double[] margins) {
        public int flagged() {
            return positives(margins);
        }
    }

    /**
     * The direction learned from the clean texts carrying the scan's strongest evidence, each input's
     * margin along it, and the per-input filter the carriers chose with its scores (flagged above 0).
     */
    public record ScanDirection(CandidateDirection.Strongest strongest, double[] margins, CandidateDirection.Choice choice, double[] filterScores) {
        public int flagged() {
            return positives(margins);
        }
    }

    /** The combined filter, which direction is its second half ("suspects" or "scan"), and its scores. */
    public record Combined(String direction, CombinedFilter filter, double[] scores) {
        public int flagged() {
            return positives(scores);
        }
    }

    /**
     * Everything measured; the optional parts are null when not asked for.
     *
     * @param seconds the inputs' pass and the attention scoring
     */
    public record Result(InputScanner scanner, InputScanner.Scores scores, double seconds, Population population, SuspectDirection direction,
                         ScanDirection scanDirection, Combined combined) {

        /**
         * What a gate ({@code --fail-on-detect}) stops on at this FRR: with a combined filter its flags
         * (it is the one that holds the FRR) or a population; else any attention flag, a population, or a
         * flag along a direction that moved its texts (one that did not is noise).
         */
        public boolean detected(double frr) {
            boolean populationFound = population != null && population.scan().found(frr, HiddenStateScan.MIN_EXCESS);
            if (combined != null) {
                return combined.flagged() > 0 || populationFound;
            }
            boolean alongDirection = direction != null && direction.learned().scan().found(frr, HiddenStateScan.MIN_EXCESS) && direction.flagged() > 0
                    || scanDirection != null && scanDirection.strongest().learned().scan().found(frr, HiddenStateScan.MIN_EXCESS) && scanDirection.flagged() > 0;
            return scores.flaggedCount() > 0 || populationFound || alongDirection;
        }
    }

    private InputAudit() {}

    /**
     * @param progress a progress listener per named stage ("calibrating on clean texts", "scoring inputs", ...)
     */
    public static Result run(ModelStore.LoadedModel m, Request r, NDManager root, Function<String, Probe.Progress> progress) {
        InputScanner.Settings settings = r.settings();
        HiddenStateScan.Settings hs = r.hidden();
        AttentionFeatures f = new AttentionFeatures(m.model().config(), settings.families());
        Probe.WithStates cleanPass = pass(m, r.clean(), f, r.states(), settings, root, progress.apply("calibrating on clean texts"));
        InputScanner scanner = InputScanner.calibrate(m, cleanPass.result(), f, settings, root);
        long t0 = System.nanoTime();
        // Each input as if alone (batches of one length): its score does not hang on the other inputs, as a per-input filter's must not.
        Probe.WithStates inPass = Probe.runEachAlone(m, r.inputs(), f, r.states(), root, settings.batchSize(), progress.apply("scoring inputs"));
        InputScanner.Scores s = scanner.score(inPass.result());
        double seconds = (System.nanoTime() - t0) / 1e9;
        HiddenStateScan.States cleanStates = r.states() ? HiddenStateScan.States.of(cleanPass) : null;
        HiddenStateScan.States inStates = r.states() ? HiddenStateScan.States.of(inPass) : null;

        Population population = null;
        if (r.population()) {
            HiddenStateScan.Result pop = HiddenStateScan.scan(m, cleanStates, inStates, hs);
            // The batch's own choice between the two scans (both at the FRR): the one that flags more of it ranks it.
            population = new Population(pop, BatchAudit.choose(scanner, s.scores(), s.probe().predictions(), pop));
        }
        SuspectDirection direction = null;
        Combined combined = null;
        if (r.suspects() != null) {
            HiddenStateScan.States u = HiddenStateScan.States.of(Probe.runWithStates(m, r.suspects(), null, root, settings.batchSize(),
                    progress.apply("suspects (hidden states)")));
            HiddenStateScan.Learned learned = HiddenStateScan.learn(m, cleanStates, u, hs);
            direction = new SuspectDirection(r.suspects().size(), learned, learned.direction().margins(inStates));
            if (r.combined()) { // the suspects' direction when both are given: a real population beats a recreated one
                CombinedFilter filter = CombinedFilter.calibrate(m, cleanPass.result(), f, settings, cleanStates, u, hs, root);
                combined = new Combined("suspects", filter, filter.scores(inPass.result(), inStates));
            }
        }
        ScanDirection scanDirection = null;
        if (r.evidence() != null) {
            CandidateDirection.Strongest strongest = CandidateDirection.strongest(m, r.clean(), r.evidence(), f, cleanStates, hs, root,
                    e -> progress.apply("clean texts carrying '" + e.text() + "'" + (e.firstWord() ? " as first word" : "")));
            HiddenStateScan.Learned fromScan = strongest.learned();
            // The per-input filter the carriers choose: the attention scan or this direction, whichever flags more of them.
            CandidateDirection.Choice choice = CandidateDirection.Choice.of(scanner, strongest.carrierPass().result(), fromScan);
            scanDirection = new ScanDirection(strongest, fromScan.direction().margins(inStates), choice,
                    choice.scores(scanner, inPass.result(), fromScan.direction(), inStates));
            if (r.combined() && combined == null) {
                double half = settings.frr() / 2;
                CombinedFilter filter = new CombinedFilter(InputScanner.calibrate(m, cleanPass.result(), f, settings.withFrr(half), root),
                        HiddenStateScan.learnFromCarriers(m, cleanStates, strongest.carriers(), hs.withFrr(half)).direction());
                combined = new Combined("scan", filter, filter.scores(inPass.result(), inStates));
            }
        }
        return new Result(scanner, s, seconds, population, direction, scanDirection, combined);
    }

    private static Probe.WithStates pass(ModelStore.LoadedModel m, List<String> texts, AttentionFeatures f, boolean states, InputScanner.Settings s,
                                         NDManager root, Probe.Progress progress) {
        return states ? Probe.runWithStates(m, texts, f, root, s.batchSize(), progress)
                : new Probe.WithStates(Probe.run(m, texts, f, root, s.batchSize(), progress), null);
    }

    /** Inputs a margin or score flags (above 0). */
    public static int positives(double[] margins) {
        int n = 0;
        for (double v : margins) {
            n += v > 0 ? 1 : 0;
        }
        return n;
    }
}
