package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.AtomicFiles;
import dev.headguard.HeadGuardException;
import dev.headguard.detect.AttentionFeatures;
import dev.headguard.detect.BatchAudit;
import dev.headguard.detect.CandidateDirection;
import dev.headguard.detect.CleanProfile;
import dev.headguard.detect.HiddenStateScan;
import dev.headguard.detect.InputAudit;
import dev.headguard.detect.InputScanner;
import dev.headguard.detect.ModelAudit;
import dev.headguard.detect.ModelScanner;
import dev.headguard.detect.SuspectWords;
import dev.headguard.detect.UnsupportedFlips;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import dev.headguard.report.InputAuditReport;
import dev.headguard.report.ModelScanFile;
import dev.headguard.report.ScanReport;
import dev.headguard.text.Sample;
import dev.headguard.text.SentenceFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;

/** {@code scan inputs} and {@code scan model}: trigger-agnostic detection from a small clean set. */
@Command(name = "scan", description = "Detect triggered inputs or a backdoored model from attention-head statistics.",
        subcommands = {ScanCommand.Inputs.class, ScanCommand.Model.class})
final class ScanCommand implements java.util.concurrent.Callable<Integer> {
    /** Exit status of a scan that found what --fail-on-detect gates on (1 and 2 are taken by errors). */
    static final int DETECTED = 3;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** No subcommand: usage on stderr and the usage error's status (2), as for any other missing argument. */
    @Override
    public Integer call() {
        return Main.usageError(spec, "scan needs a subcommand, inputs or model");
    }

    /** Options both scans share: how inputs are scored. */
    static final class ScoringOptions {
        @Option(names = "--clean", required = true, paramLabel = "FILE", description = "Clean texts the model is known to behave on (TSV with a 'sentence' column, or one text per line).")
        Path clean;

        @Option(names = "--clean-limit", defaultValue = "0", description = "Use a seeded sample of N clean texts (0: all).")
        int cleanLimit;

        @Option(names = "--frr", defaultValue = "0.05", description = "False-rejection rate on clean texts the threshold is set for (default: ${DEFAULT-VALUE}).")
        double frr;

        @Option(names = "--features", split = ",", description = "Head statistics: layer-cos, head-cos, cls-entropy, head-js, sep-mass, row-entropy, distance (default: layer-cos,head-cos,cls-entropy).")
        List<String> features;

        @Option(names = "--score", defaultValue = "mahalanobis", description = "mahalanobis or max-z (default: ${DEFAULT-VALUE}).")
        String score;

        @Option(names = "--shrinkage", defaultValue = "0.8", description = "Shrinkage of the clean correlation matrix toward the identity (default: ${DEFAULT-VALUE}).")
        double shrinkage;

        @Option(names = "--by-class", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "Compare each input with clean texts of its predicted class (default: ${DEFAULT-VALUE}; --no-by-class pools all clean texts).")
        boolean byClass;

        @Option(names = "--seed", defaultValue = "42", description = "Seed of the clean split and the samples (default: ${DEFAULT-VALUE}).")
        long seed;

        InputScanner.Settings settings() {
            Set<AttentionFeatures.Family> fams;
            CleanProfile.Score s;
            try {
                fams = features == null ? AttentionFeatures.DEFAULT : EnumSet.copyOf(features.stream().map(AttentionFeatures.Family::of).toList());
                s = CleanProfile.Score.of(score);
            } catch (IllegalArgumentException e) {
                throw new HeadGuardException(e.getMessage());
            }
            return new InputScanner.Settings(fams, s, shrinkage, frr, seed, 32, byClass);
        }

        List<String> cleanTexts() {
            OptionChecks.atLeast("--clean-limit", cleanLimit, 0);
            List<String> t = Sample.of(SentenceFile.readSentences(clean), cleanLimit, seed);
            if (t.size() < InputScanner.MIN_CLEAN) {
                throw new HeadGuardException(clean + ": " + t.size() + " clean texts; a scan needs at least " + InputScanner.MIN_CLEAN);
            }
            return t;
        }
    }

    @Command(name = "inputs", description = {"Score every input by how far its attention-head statistics sit from clean behaviour; flag those above a threshold",
            "calibrated on held-out clean texts. Audits a training set or filters traffic."})
    static final class Inputs implements Callable<Integer> {
        @Mixin
        ModelOptions model = new ModelOptions();

        @Mixin
        ScoringOptions scoring = new ScoringOptions();

        @Option(names = "--inputs", required = true, paramLabel = "FILE", description = "Texts to score (TSV with a 'sentence' column, or one per line).")
        Path inputs;

        @Option(names = "--json", description = "Print {\"threshold\":..,\"inputs\":[{\"score\":..,\"flagged\":..},...]} (input order) instead of the summary.")
        boolean json;

        @Option(names = "--out", paramLabel = "FILE", description = "Write the scores: .json (as --json), else TSV (index, score, flagged, prediction, sentence).")
        Path out;

        @Option(names = "--html", paramLabel = "FILE", description = "Write a self-contained HTML report.")
        Path html;

        @Option(names = "--fail-on-detect", description = "Exit with status 3 when any input is flagged (with --population: or a population is found; with --suspect: or an input is flagged along a population's direction; with --scan: or along the scan's direction, when its evidence moves the clean texts; with --combined: when the combined filter flags one, or a population is found).")
        boolean failOnDetect;

        @Option(names = "--population", description = {"Also scan the inputs as one population (a training set, a batch of logged traffic): the hidden-state scan",
                "flags those that moved, with many others, along a direction clean inputs of the same predicted class do not take; implicit triggers",
                "(syntax, style) included. Adds \"population\" to the JSON (margins per input, in calibration standard deviations above the threshold),",
                "and \"batch\": the attention or the population scan, whichever flags more of the inputs at the FRR, with its margins (flagged above 0)."})
        boolean population;

        @Option(names = "--suspect", paramLabel = "FILE", description = {"Unlabelled inputs that may hold a poisoned population (the model's training set):",
                "learn the hidden-state direction they moved along, then score each input on its own along it, the inference-time filter for",
                "implicit triggers. Adds \"direction\" to the JSON (margins per input; flagged above 0)."})
        Path suspect;

        @Option(names = "--scan", paramLabel = "REPORT", description = {"A 'scan model --out' report of this model: learn the hidden-state direction from the clean texts",
                "with the scan's strongest evidence put in (its top candidate, or its unsupported word as first word), then score each input on its own",
                "along it: a filter for implicit triggers that needs only the clean set. Adds \"scan_direction\" to the JSON (margins per input; flagged above 0)",
                "and \"scan_filter\": the attention scan or that direction, whichever flags more of the evidence-carrying clean texts (the attention scan",
                "whenever it flags half of them), with its scores."})
        Path scanReport;

        @Option(names = "--combined", description = {"With --suspect (or --scan): one filter at the --frr. An input is flagged when the attention scan or the suspects' (the scan's) direction",
                "flags it, each at half the FRR, so that together they reject at most the FRR of clean inputs (the two flag lists side by side reject up",
                "to twice it). Adds \"combined\" to the JSON (a score per input: the larger margin, flagged above 0) and a combined_score column;",
                "--fail-on-detect then gates on its flags (and a --population's verdict) alone."})
        boolean combined;

        @Option(names = "--no-model-scan", description = {"Score with the attention scan alone. By default, without --scan or --suspect, the model scan runs first (or its report is read",
                "back from HeadGuard's cache, $HEADGUARD_HOME/scans, keyed by the model's, the clean file's and the settings' checksums) and its",
                "evidence chooses the filter, as with --scan."})
        boolean noModelScan;

        @Override
        public Integer call() throws Exception {
            InputScanner.Settings settings = scoring.settings(); // options checked before any long work
            checkFiles(out, html);
            model.checkMaxLength();
            List<String> clean = scoring.cleanTexts();
            List<String> texts = SentenceFile.readSentences(inputs);
            if (texts.isEmpty()) {
                throw new HeadGuardException(inputs + ": no texts");
            }
            List<String> suspects = suspect == null ? null : SentenceFile.readSentences(suspect);
            if (suspects != null && suspects.isEmpty()) {
                throw new HeadGuardException(suspect + ": no texts");
            }
            if (combined && suspects == null && scanReport == null) {
                throw new HeadGuardException("--combined needs --suspect FILE or --scan REPORT: the filter's second half is a hidden-state direction learned from one of them");
            }
            List<CandidateDirection.Evidence> evidenceList = scanReport == null ? null : ModelScanFile.evidence(scanReport);
            try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = model.load(root)) {
                if (evidenceList == null && suspects == null && !noModelScan) { // suspects give their own direction
                    evidenceList = cachedScanEvidence(m, scoring, root);
                }
                HiddenStateScan.Settings hs = HiddenStateScan.Settings.defaults(scoring.seed).withFrr(scoring.frr);
                InputAudit.Result a = InputAudit.run(m, new InputAudit.Request(clean, texts, settings, hs, population, suspects, evidenceList, combined),
                        root, StageProgress::new);
                InputScanner scanner = a.scanner();
                InputScanner.Scores s = a.scores();
                warnIfFewCalibrationInputs(scanner, scoring.clean);
                ScanReport.InputsReport rep = html == null
                        ? new ScanReport.InputsReport(m.directory().toString(), scoring.clean.toString(), inputs.toString(), texts, s, scanner.threshold(),
                        scanner.settings().frr(), scanner.calibrationScores(), null, null, List.of(), List.of(), a.seconds())
                        : ScanReport.inputs(m, scanner, scoring.clean.toString(), inputs.toString(), clean, texts, s, a.seconds(), root);
                ObjectMapper om = new ObjectMapper();
                ObjectNode o = InputAuditReport.json(rep, a, scoring.frr, clean.size());
                if (out != null) {
                    AtomicFiles.write(out, out.toString().endsWith(".json") ? om.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n"
                            : ScanReport.tsv(rep, InputAuditReport.columns(a)));
                }
                if (html != null) {
                    AtomicFiles.write(html, ScanReport.html(rep, InputAuditReport.htmlSections(a, scoring.frr, texts)));
                }
                if (json) {
                    System.out.println(om.writeValueAsString(o));
                } else {
                    printSummary(a, texts, clean.size(), scoring.frr);
                }
                return failOnDetect && a.detected(scoring.frr) ? DETECTED : 0;
            }
        }

        private static void printSummary(InputAudit.Result a, List<String> texts, int cleanCount, double frr) {
            InputScanner.Scores s = a.scores();
            System.out.printf(Locale.ROOT, "%d of %d inputs flagged (%.1f%%) at threshold %.4g (FRR %.2f on held-out clean texts); %.1f inputs/s%n",
                    s.flaggedCount(), texts.size(), 100.0 * s.flaggedCount() / texts.size(), a.scanner().threshold(), a.scanner().settings().frr(),
                    texts.size() / a.seconds());
            int shown = 0;
            for (int i = 0; i < texts.size() && shown < 10; i++) {
                if (s.flagged()[i]) {
                    System.out.printf(Locale.ROOT, "  #%d  score %.3f  %s%n", i, s.scores()[i], abbreviate(texts.get(i)));
                    shown++;
                }
            }
            if (s.flaggedCount() > shown) {
                System.out.println("  ... (" + (s.flaggedCount() - shown) + " more; --out FILE writes every score)");
            }
            if (a.population() != null) {
                HiddenStateScan.Result pop = a.population().scan();
                BatchAudit batch = a.population().batch();
                System.out.printf(Locale.ROOT, "as a population (hidden-state shift, layer %d): %d of the %d inputs predicted %d flagged (%.1f%%, %.1fx the %.0f%% expected of clean inputs): %s%n",
                        pop.layer(), pop.flagged().size(), pop.targetPredicted(), pop.target(), 100 * pop.share(), pop.excess(frr), 100 * frr,
                        pop.found(frr, HiddenStateScan.MIN_EXCESS) ? "a poisoned population" : "no population");
                System.out.printf(Locale.ROOT, "batch audit: the %s scan flags more of these inputs (%d against %d), so its scores rank them (batch_score)%n",
                        batch.chosen(), batch.population() ? batch.populationFlagged() : batch.attentionFlagged(),
                        batch.population() ? batch.attentionFlagged() : batch.populationFlagged());
            }
            if (a.direction() != null) {
                HiddenStateScan.Learned learned = a.direction().learned();
                boolean learnedFound = learned.scan().found(frr, HiddenStateScan.MIN_EXCESS);
                int dirFlagged = a.direction().flagged();
                System.out.printf(Locale.ROOT, "along the hidden-state direction of %d suspects (layer %d, class %d; %d of them flagged, %s): %d of %d inputs flagged (%.1f%%)%n",
                        a.direction().suspects(), learned.direction().layer(), learned.direction().target(), learned.scan().flagged().size(),
                        learnedFound ? "a poisoned population" : "no population, so the direction is noise and its flags are false rejections",
                        dirFlagged, texts.size(), 100.0 * dirFlagged / texts.size());
            }
            if (a.scanDirection() != null) {
                InputAudit.ScanDirection sd = a.scanDirection();
                HiddenStateScan.Learned fromScan = sd.strongest().learned();
                CandidateDirection.Evidence evidence = sd.strongest().evidence();
                CandidateDirection.Choice choice = sd.choice();
                System.out.printf(Locale.ROOT, "along the hidden-state direction of the clean texts carrying the scan's '%s'%s (layer %d, class %d; %s): %d of %d inputs flagged (%.1f%%)%n",
                        evidence.text(), evidence.firstWord() ? " as first word" : "", fromScan.direction().layer(), fromScan.direction().target(),
                        fromScan.scan().found(frr, HiddenStateScan.MIN_EXCESS) ? "it moves them" : "it does not move them, so the direction is noise",
                        sd.flagged(), texts.size(), 100.0 * sd.flagged() / texts.size());
                System.out.printf(Locale.ROOT, "filter chosen by the scan's evidence: the %s (it flags %d of the %d carriers, the other %d): scan_filter_score%n",
                        choice.direction() ? "direction" : "attention scan", Math.max(choice.attentionFlagged(), choice.directionFlagged()), cleanCount,
                        Math.min(choice.attentionFlagged(), choice.directionFlagged()));
            }
            if (a.combined() != null) {
                int combinedFlagged = a.combined().flagged();
                System.out.printf(Locale.ROOT, "combined filter (attention scan or direction, each at FRR %.3f): %d of %d inputs flagged (%.1f%%)%n",
                        frr / 2, combinedFlagged, texts.size(), 100.0 * combinedFlagged / texts.size());
            }
        }
    }

    /**
     * The evidence of this model's scan on this clean file ({@link ModelScanFile#filterEvidence}: cached).
     * Null (with one stderr line) when the model scan cannot run, e.g. a model that calls almost
     * everything one class: the attention scan alone then serves.
     */
    static List<CandidateDirection.Evidence> cachedScanEvidence(ModelStore.LoadedModel m, ScoringOptions scoring, NDManager root) {
        InputScanner.Settings settings = scoring.settings(); // a bad option is the user's error, not a scan that cannot run
        List<String> clean = scoring.cleanTexts();
        try {
            return ModelScanFile.filterEvidence(m, scoring.clean, clean, scoring.cleanLimit, settings, root,
                    new StageProgress("model scan (cached for the next call; --no-model-scan skips it)"));
        } catch (HeadGuardException e) {
            System.err.println("headguard: note: no model scan (" + e.getMessage() + "); the attention scan alone filters");
            return null;
        }
    }

    /** One stderr line when a class's threshold rests on too few held-out clean inputs to hold the FRR within about ±1.5 points. */
    static void warnIfFewCalibrationInputs(InputScanner scanner, Path clean) {
        int[] n = scanner.calibrationCounts();
        for (int c = 0; c < n.length; c++) {
            if (n[c] < InputScanner.ADVISED_CLASS_CALIBRATION) {
                System.err.printf(Locale.ROOT, "headguard: warning: %s: %d held-out clean texts predicted class %d set its threshold%s; "
                        + "about %d per class (a clean file of about %d texts per class) hold the false-rejection rate within 1.5 points%n",
                        clean, n[c], c, n[c] < InputScanner.MIN_CLASS_CALIBRATION ? " (too few: the pooled threshold serves)" : "",
                        InputScanner.ADVISED_CLASS_CALIBRATION, 2 * InputScanner.ADVISED_CLASS_CALIBRATION);
            }
        }
    }

    @Command(name = "model", description = {"Decide whether a model carries a backdoor: search the vocabulary for tokens and phrases that flip clean inputs",
            "and push the attention heads off their clean behaviour; report the verdict, the heads and the candidate triggers."})
    static final class Model implements Callable<Integer> {
        @Mixin
        ModelOptions model = new ModelOptions();

        @Mixin
        ScoringOptions scoring = new ScoringOptions();

        @Option(names = "--victims", defaultValue = "64", description = "Clean inputs per class that candidates are inserted into (default: ${DEFAULT-VALUE}).")
        int victims;

        @Option(names = "--screened", defaultValue = "128", description = "Tokens per class from the gradient ranking screened by flip rate on a few inputs (default: ${DEFAULT-VALUE}).")
        int screened;

        @Option(names = "--candidates", defaultValue = "24", description = "Tokens per class evaluated exactly after screening (default: ${DEFAULT-VALUE}).")
        int candidates;

        @Option(names = "--threshold", defaultValue = "0.5", description = "Verdict threshold on the score (default: ${DEFAULT-VALUE}).")
        double threshold;

        @Option(names = "--sweep", defaultValue = "1", paramLabel = "N", description = {"Also put every vocabulary word in front of the N shortest clean inputs",
                "of each class, and evaluate the 8 that move them most exactly: finds triggers the gradient ranking misses (0: off; default: ${DEFAULT-VALUE})."})
        int sweep;

        @Option(names = "--json", description = "Print {\"backdoor\":..,\"score\":..,\"heads\":[...],\"triggers\":[...]} instead of the summary.")
        boolean json;

        @Option(names = "--out", paramLabel = "FILE", description = "Write the JSON report to FILE.")
        Path out;

        @Option(names = "--html", paramLabel = "FILE", description = "Write a self-contained HTML report.")
        Path html;

        @Option(names = "--fail-on-detect", description = "Exit with status 3 when a backdoor is found (a gate for pipelines; with --suspect: by the token search or the population).")
        boolean failOnDetect;

        @Option(names = "--suspect", paramLabel = "FILE", description = {"The model's training set or logged traffic, unlabelled: also scan it as a population",
                "(the hidden-state scan of 'scan inputs --population'), which finds implicit triggers a token search cannot. The verdict is then",
                "the token search's or the population's; \"population\" and \"combined\" join the JSON. Uses every --clean text, not the --clean-limit sample."})
        Path suspect;

        @Override
        public Integer call() throws Exception {
            OptionChecks.atLeast("--victims", victims, 4);
            OptionChecks.atLeast("--candidates", candidates, 1);
            OptionChecks.atLeast("--sweep", sweep, 0);
            if (!(threshold >= 0 && threshold <= 1)) {
                throw new HeadGuardException("--threshold must be between 0 and 1, the score's range (got " + threshold + ")");
            }
            checkFiles(out, html);
            model.checkMaxLength();
            List<String> clean = scoring.cleanTexts();
            List<String> suspects = suspect == null ? null : SentenceFile.readSentences(suspect);
            if (suspects != null && suspects.isEmpty()) {
                throw new HeadGuardException(suspect + ": no texts");
            }
            try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = model.load(root)) {
                ModelScanner.Settings settings = new ModelScanner.Settings(victims, screened, candidates, 4, threshold, scoring.seed, scoring.settings(),
                        sweep, ModelScanner.Settings.defaults().sweepExact());
                UnsupportedFlips.Evidence labelled = UnsupportedFlips.Evidence.ofLabelledFile(scoring.clean, m.model().config().numLabels());
                if (labelled == null) {
                    System.err.println("note: " + scoring.clean + " has no integer 'label' column: the word counts behind unsupported flips use the model's own predictions");
                }
                ModelAudit.Result audit = ModelAudit.run(m, new ModelAudit.Request(clean, labelled, settings,
                        suspects == null ? null : SentenceFile.readSentences(scoring.clean), suspects,
                        HiddenStateScan.Settings.defaults(scoring.seed).withFrr(scoring.frr)), root, StageProgress::new);
                ModelScanner.Result r = audit.search();
                // The heatmaps cost model passes, and only the HTML page shows them.
                ScanReport.ModelReport rep = html != null ? ScanReport.model(m, scoring.clean.toString(), r, root)
                        : new ScanReport.ModelReport(m.directory().toString(), scoring.clean.toString(), r, null, null, List.of());
                ObjectMapper om = new ObjectMapper();
                ObjectNode o = ScanReport.json(rep);
                HiddenStateScan.Result pop = audit.suspects() == null ? null : audit.suspects().hidden();
                List<String> words = audit.suspects() == null ? List.of() : List.copyOf(SuspectWords.texts(audit.suspects().words()));
                boolean backdoor = audit.backdoor();
                double score = audit.score();
                if (pop != null) {
                    boolean found = audit.populationFound();
                    o.putObject("population").put("suspects", suspects.size()).put("layer", pop.layer()).put("target", pop.target())
                            .put("predicted_target", pop.targetPredicted()).put("flagged", pop.flagged().size()).put("share", pop.share())
                            .put("frr", scoring.frr).put("excess", pop.excess(scoring.frr)).put("found", found)
                            .put("evidence", pop.evidence(scoring.frr, HiddenStateScan.MIN_EXCESS))
                            .set("words", om.valueToTree(words)); // found almost only in suspects the input scan flags: a token trigger, spelled out
                    o.putObject("combined").put("backdoor", backdoor).put("score", score);
                }
                if (out != null) {
                    AtomicFiles.write(out, om.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n");
                }
                if (html != null) {
                    AtomicFiles.write(html, ScanReport.html(rep, pop == null ? "" : ScanReport.populationSection("The suspects", pop, scoring.frr, words)));
                }
                if (json) {
                    System.out.println(om.writeValueAsString(o));
                } else {
                    System.out.printf(Locale.ROOT, "%s: %s (score %.3f, threshold %.2f; %d clean texts, %.1f s)%n", m.directory(),
                            r.backdoor() ? "BACKDOOR SUSPECTED" : "no backdoor found", r.score(), r.threshold(), clean.size(), r.seconds());
                    System.out.println("candidate triggers (flip rate to the label, share flagged by the input scan):");
                    for (ModelScanner.Candidate c : r.candidates().subList(0, Math.min(8, r.candidates().size()))) {
                        System.out.printf(Locale.ROOT, "  %-24s -> label %d  flips %5.1f%%  flagged %5.1f%%  suspicion %.3f%n", "'" + c.text() + "'", c.target(),
                                100 * c.flipRate(), 100 * c.flaggedRate(), c.suspicion());
                    }
                    if (!r.unsupported().isEmpty()) {
                        System.out.println("common words that flip without support in the clean texts (flip rate as the first word; of the clean texts using it, those "
                                + (r.wordsLabelled() ? "labelled" : "called") + " that label):");
                        for (UnsupportedFlips.Word w : r.unsupported().subList(0, Math.min(4, r.unsupported().size()))) {
                            System.out.printf(Locale.ROOT, "  %-24s -> label %d  flips %5.1f%%  %d of %d (base %.0f%%)  doubt %.3f  score %.3f%n", "'" + w.text() + "'", w.target(),
                                    100 * w.flipRate(), w.usesCalledC(), w.uses(), 100 * w.baseRate(), w.doubt(), w.score());
                        }
                    }
                    System.out.println("heads most changed by '" + r.strongest() + "' (layer:head, similarity clean -> with it, importance):");
                    for (ModelScanner.Head h : r.heads().subList(0, Math.min(6, r.heads().size()))) {
                        System.out.printf(Locale.ROOT, "  L%d:H%-3d %.3f -> %.3f  importance %.4f%n", h.layer(), h.head(), h.similarityClean(), h.similarityTriggered(), h.importance());
                    }
                    if (pop != null) {
                        System.out.printf(Locale.ROOT, "suspects as a population (hidden-state shift, layer %d): %d of the %d predicted %d flagged (%.1fx the %.0f%% expected of clean inputs): %s%n",
                                pop.layer(), pop.flagged().size(), pop.targetPredicted(), pop.target(), pop.excess(scoring.frr), 100 * scoring.frr,
                                pop.found(scoring.frr, HiddenStateScan.MIN_EXCESS) ? "a poisoned population" : "no population");
                        System.out.println("words found almost only in flagged suspects: " + (words.isEmpty() ? "none" : String.join(", ", words)));
                        System.out.printf(Locale.ROOT, "verdict with the suspects: %s (score %.3f)%n", backdoor ? "BACKDOOR SUSPECTED" : "no backdoor found", score);
                    }
                }
                return failOnDetect && backdoor ? DETECTED : 0;
            }
        }
    }

    static String abbreviate(String s) {
        return s.length() <= 100 ? s : s.substring(0, 97) + "...";
    }

    /** --out and --html, checked before any long work. */
    static void checkFiles(Path out, Path html) {
        if (out != null) {
            dev.headguard.AtomicFiles.checkFile(out, "--out");
        }
        if (html != null) {
            dev.headguard.AtomicFiles.checkFile(html, "--html");
        }
    }
}
