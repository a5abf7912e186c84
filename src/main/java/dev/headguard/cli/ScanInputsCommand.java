package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.AtomicFiles;
import dev.headguard.HeadGuardException;
import dev.headguard.detect.hidden.CandidateDirection;
import dev.headguard.detect.hidden.HiddenStateScan;
import dev.headguard.detect.InputAudit;
import dev.headguard.detect.attention.InputScanner;
import dev.headguard.detect.ContinuationAudit;
import dev.headguard.inference.TargetLikelihood;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import dev.headguard.report.InputAuditReport;
import dev.headguard.report.InputScanPage;
import dev.headguard.report.ModelScanFile;
import dev.headguard.report.ScanPages;
import dev.headguard.text.PromptResponseFile;
import dev.headguard.text.SentenceFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code scan inputs}: score every input against clean behaviour and flag those above a calibrated threshold. */
@Command(name = "inputs", description = {"Score every input by how far its attention-head statistics sit from clean behaviour; flag those above a threshold",
        "calibrated on held-out clean texts. Audits a training set or filters traffic."})
final class ScanInputsCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Mixin
    ScanOptions scoring = new ScanOptions();

    @Option(names = "--inputs", required = true, paramLabel = "FILE", description = "Texts to score (TSV with a 'sentence' column, or one per line; for a decoder also prompt/response rows).")
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
            "whenever it flags half of them), with its scores. For a decoder: score each prompt by how likely it makes the output the scan elicited",
            "(the mean log-probability of its tokens), flagged above the clean prompts' quantile at the FRR: adds \"target_filter\"."})
    Path scanReport;

    @Option(names = "--combined", description = {"With --suspect (or --scan): one filter at the --frr. An input is flagged when the attention scan or the suspects' (the scan's) direction",
            "flags it, each at half the FRR, so that together they reject at most the FRR of clean inputs (the two flag lists side by side reject up",
            "to twice it). Adds \"combined\" to the JSON (a score per input: the larger margin, flagged above 0) and a combined_score column;",
            "--fail-on-detect then gates on its flags (and a --population's verdict) alone."})
    boolean combined;

    @Option(names = "--no-model-scan", description = {"Score with the attention scan alone. By default, without --scan or --suspect, the model scan runs first (or its report is read",
            "back from HeadGuard's cache, $HEADGUARD_HOME/scans, keyed by the model's, the clean file's and the settings' checksums) and its",
            "evidence chooses the filter, as with --scan; for a decoder, the output it elicits adds the target filter, as with --scan."})
    boolean noModelScan;

    @Override
    public Integer call() throws Exception {
        InputScanner.Settings settings = scoring.settings(model.config()); // options checked before any long work
        OptionChecks.outputFiles(out, html);
        model.checkMaxLength();
        boolean prompts = model.config().family().decoder && model.config().languageModel();
        if (prompts && (suspect != null || combined)) {
            throw new HeadGuardException((suspect != null ? "--suspect" : "--combined") + ": not yet for a decoder language model (its prompts are scored by the attention scan, --scan and --population)");
        }
        // A decoder's report names the output its trigger elicits; each prompt is scored by how likely it makes it.
        String elicited = prompts && scanReport != null ? ModelScanFile.elicitedTarget(scanReport) : null;
        List<String> clean = scoring.cleanTexts(prompts);
        List<String> texts = prompts ? PromptResponseFile.readPrompts(inputs) : SentenceFile.readSentences(inputs);
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
        List<CandidateDirection.Evidence> evidenceList = scanReport == null || prompts ? null : ModelScanFile.evidence(scanReport);
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = model.load(root)) {
            if (evidenceList == null && suspects == null && !noModelScan && !prompts) { // suspects give their own direction
                evidenceList = cachedScanEvidence(m, scoring, root);
            }
            if (prompts && elicited == null && !noModelScan) { // a decoder's model scan is the continuation search
                String why;
                try {
                    elicited = ModelScanFile.cachedElicitedTarget(m, scoring.clean, scoring.cleanLimit, clean, scoring.seed, root,
                            new ProgressBar()::stage);
                    why = "the model scan elicited no output to look for";
                } catch (HeadGuardException e) { // a scan that cannot run: the attention scan still serves, as for a classifier
                    why = "no model scan (" + e.getMessage() + ")";
                }
                if (elicited == null) {
                    System.err.println("headguard: note: " + why + "; the attention scan alone filters");
                }
            }
            HiddenStateScan.Settings hs = HiddenStateScan.Settings.defaults(scoring.seed).withFrr(scoring.frr);
            InputAudit.Result a = InputAudit.run(m, new InputAudit.Request(clean, texts, settings, hs, population, suspects, evidenceList, combined),
                    root, StageProgress::new);
            InputScanner scanner = a.scanner();
            InputScanner.Scores s = a.scores();
            System.err.print(InputAuditReport.calibrationWarnings(scanner, scoring.clean.toString()));
            InputAuditReport.Scanned rep = new InputAuditReport.Scanned(m.directory().toString(), scoring.clean.toString(), inputs.toString(), texts,
                    scanner, s, a.seconds());
            TargetLikelihood.Filter target = elicited == null ? null : TargetLikelihood.filter(m, texts, elicited,
                    ContinuationAudit.targetThreshold(m, clean, elicited, scoring.frr, root), root);
            ObjectMapper om = new ObjectMapper();
            ObjectNode o = InputAuditReport.json(rep, a, scoring.frr, clean.size());
            java.util.Map<String, double[]> columns = InputAuditReport.columns(a);
            if (target != null) {
                InputAuditReport.putTargetFilter(o, target.target(), target.threshold(), target.flaggedCount(), target.scores());
                columns.put("target_score", target.scores());
            }
            if (out != null) {
                AtomicFiles.write(out, out.toString().endsWith(".json") ? om.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n"
                        : InputAuditReport.tsv(rep, columns));
            }
            if (html != null) {
                InputScanPage.Maps maps = InputScanPage.maps(m, scanner, clean, texts, s, root); // model passes: only for the page
                String targetSection = target == null ? "" : ScanPages.targetFilterSection(target.target(), target.threshold(), scoring.frr, target.scores(), texts);
                AtomicFiles.write(html, InputScanPage.html(rep, maps, targetSection + InputAuditReport.htmlSections(a, scoring.frr, texts)));
            }
            if (json) {
                System.out.println(om.writeValueAsString(o));
            } else {
                if (target != null) { // the stronger filter on a decoder: first
                    System.out.printf(java.util.Locale.ROOT, "target filter (\"%s\", the output the model scan elicited): %d of %d inputs flagged at threshold %.4g"
                            + " (FRR %s on the clean prompts); the attention scan:%n", target.target(), target.flaggedCount(), texts.size(), target.threshold(), scoring.frr);
                }
                System.out.print(InputScanPage.summary(a, texts, clean.size(), scoring.frr));
            }
            return failOnDetect && (a.detected(scoring.frr) || target != null && target.flaggedCount() > 0) ? Main.DETECTED : 0;
        }
    }

    /**
     * The evidence of this model's scan on this clean file ({@link ModelScanFile#filterEvidence}: cached).
     * Null (with one stderr line) when the model scan cannot run, e.g. a model that calls almost
     * everything one class: the attention scan alone then serves.
     */
    private static List<CandidateDirection.Evidence> cachedScanEvidence(ModelStore.LoadedModel m, ScanOptions scoring, NDManager root) {
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
}
