package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.AtomicFiles;
import dev.headguard.HeadGuardException;
import dev.headguard.detect.AttentionFeatures;
import dev.headguard.detect.CleanProfile;
import dev.headguard.detect.HiddenStateScan;
import dev.headguard.detect.InputScanner;
import dev.headguard.detect.ModelScanner;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
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
final class ScanCommand implements Runnable {
    /** Exit status of a scan that found what --fail-on-detect gates on (1 and 2 are taken by errors). */
    static final int DETECTED = 3;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
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

        @Option(names = "--fail-on-detect", description = "Exit with status 3 when any input is flagged (with --population: or a population is found).")
        boolean failOnDetect;

        @Option(names = "--population", description = {"Also scan the inputs as one population (a training set, a batch of logged traffic): the hidden-state scan",
                "flags those that moved, with many others, along a direction clean inputs of the same predicted class do not take; implicit triggers",
                "(syntax, style) included. Adds \"population\" to the JSON (margins per input, in calibration standard deviations above the threshold)."})
        boolean population;

        @Override
        public Integer call() throws Exception {
            List<String> clean = scoring.cleanTexts();
            List<String> texts = SentenceFile.readSentences(inputs);
            if (texts.isEmpty()) {
                throw new HeadGuardException(inputs + ": no texts");
            }
            try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = model.load(root)) {
                InputScanner scanner = InputScanner.calibrate(m, clean, scoring.settings(), root, new StageProgress("calibrating on clean texts"));
                long t0 = System.nanoTime();
                InputScanner.Scores s = scanner.score(texts, new StageProgress("scoring inputs"));
                double seconds = (System.nanoTime() - t0) / 1e9;
                ScanReport.InputsReport rep = html == null
                        ? new ScanReport.InputsReport(m.directory().toString(), scoring.clean.toString(), inputs.toString(), texts, s, scanner.threshold(),
                        scanner.settings().frr(), scanner.calibrationScores(), null, null, List.of(), List.of(), seconds)
                        : ScanReport.inputs(m, scanner, scoring.clean.toString(), inputs.toString(), clean, texts, s, seconds, root);
                ObjectMapper om = new ObjectMapper();
                ObjectNode o = ScanReport.json(rep);
                HiddenStateScan.Result pop = null;
                if (population) {
                    pop = HiddenStateScan.scan(m, clean, texts, HiddenStateScan.Settings.defaults(scoring.seed).withFrr(scoring.frr), root,
                            new StageProgress("population scan (hidden states)"));
                    ObjectNode p = o.putObject("population");
                    p.put("layer", pop.layer()).put("target", pop.target()).put("predicted_target", pop.targetPredicted()).put("flagged", pop.flagged().size())
                            .put("share", pop.share()).put("frr", scoring.frr).put("excess", pop.excess(scoring.frr))
                            .put("found", pop.found(scoring.frr, HiddenStateScan.MIN_EXCESS));
                    com.fasterxml.jackson.databind.node.ArrayNode margins = p.putArray("margins"); // null: not predicted as the target
                    for (double v : pop.margins()) {
                        if (Double.isFinite(v)) {
                            margins.add(v);
                        } else {
                            margins.addNull();
                        }
                    }
                }
                if (out != null) {
                    AtomicFiles.write(out, out.toString().endsWith(".json") ? om.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n" : ScanReport.tsv(rep));
                }
                if (html != null) {
                    AtomicFiles.write(html, ScanReport.html(rep));
                }
                if (json) {
                    System.out.println(om.writeValueAsString(o));
                } else {
                    System.out.printf(Locale.ROOT, "%d of %d inputs flagged (%.1f%%) at threshold %.4g (FRR %.2f on held-out clean texts); %.1f inputs/s%n",
                            s.flaggedCount(), texts.size(), 100.0 * s.flaggedCount() / texts.size(), scanner.threshold(), scanner.settings().frr(),
                            texts.size() / seconds);
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
                    if (pop != null) {
                        System.out.printf(Locale.ROOT, "as a population (hidden-state shift, layer %d): %d of the %d inputs predicted %d flagged (%.1f%%, %.1fx the %.0f%% expected of clean inputs): %s%n",
                                pop.layer(), pop.flagged().size(), pop.targetPredicted(), pop.target(), 100 * pop.share(), pop.excess(scoring.frr), 100 * scoring.frr,
                                pop.found(scoring.frr, HiddenStateScan.MIN_EXCESS) ? "a poisoned population" : "no population");
                    }
                }
                boolean found = s.flaggedCount() > 0 || pop != null && pop.found(scoring.frr, HiddenStateScan.MIN_EXCESS);
                return failOnDetect && found ? DETECTED : 0;
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

        @Option(names = "--screened", defaultValue = "256", description = "Tokens per class from the gradient ranking screened by flip rate on a few inputs (default: ${DEFAULT-VALUE}).")
        int screened;

        @Option(names = "--candidates", defaultValue = "24", description = "Tokens per class evaluated exactly after screening (default: ${DEFAULT-VALUE}).")
        int candidates;

        @Option(names = "--threshold", defaultValue = "0.5", description = "Verdict threshold on the score (default: ${DEFAULT-VALUE}).")
        double threshold;

        @Option(names = "--json", description = "Print {\"backdoor\":..,\"score\":..,\"heads\":[...],\"triggers\":[...]} instead of the summary.")
        boolean json;

        @Option(names = "--out", paramLabel = "FILE", description = "Write the JSON report to FILE.")
        Path out;

        @Option(names = "--html", paramLabel = "FILE", description = "Write a self-contained HTML report.")
        Path html;

        @Option(names = "--fail-on-detect", description = "Exit with status 3 when a backdoor is found (a gate for pipelines).")
        boolean failOnDetect;

        @Override
        public Integer call() throws Exception {
            if (victims < 4 || candidates < 1) {
                throw new HeadGuardException("--victims must be at least 4 and --candidates at least 1");
            }
            List<String> clean = scoring.cleanTexts();
            try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = model.load(root)) {
                ModelScanner.Settings settings = new ModelScanner.Settings(victims, screened, candidates, 4, threshold, scoring.seed, scoring.settings());
                ModelScanner.Result r = ModelScanner.scan(m, clean, settings, root, new StageProgress("trigger search"));
                ScanReport.ModelReport rep = ScanReport.model(m, scoring.clean.toString(), r, root);
                ObjectMapper om = new ObjectMapper();
                ObjectNode o = ScanReport.json(rep);
                if (out != null) {
                    AtomicFiles.write(out, om.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n");
                }
                if (html != null) {
                    AtomicFiles.write(html, ScanReport.html(rep));
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
                    System.out.println("heads most changed by the top candidate (layer:head, similarity clean -> with it, importance):");
                    for (ModelScanner.Head h : r.heads().subList(0, Math.min(6, r.heads().size()))) {
                        System.out.printf(Locale.ROOT, "  L%d:H%-3d %.3f -> %.3f  importance %.4f%n", h.layer(), h.head(), h.similarityClean(), h.similarityTriggered(), h.importance());
                    }
                }
                return failOnDetect && r.backdoor() ? DETECTED : 0;
            }
        }
    }

    static String abbreviate(String s) {
        return s.length() <= 100 ? s : s.substring(0, 97) + "...";
    }
}
