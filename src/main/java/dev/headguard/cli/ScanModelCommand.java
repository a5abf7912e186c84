package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.AtomicFiles;
import dev.headguard.HeadGuardException;
import dev.headguard.detect.hidden.HiddenStateScan;
import dev.headguard.detect.ModelAudit;
import dev.headguard.detect.ContinuationAudit;
import dev.headguard.detect.search.ContinuationSearch;
import dev.headguard.detect.search.ModelScanner;
import dev.headguard.detect.search.UnsupportedFlips;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import dev.headguard.report.ContinuationScanPage;
import dev.headguard.report.ModelScanFile;
import dev.headguard.report.ModelScanPage;
import dev.headguard.report.ScanPages;
import dev.headguard.text.SentenceFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code scan model}: the verdict, the heads and the trigger candidates of one model, from a small clean set. */
@Command(name = "model", description = {"Decide whether a model carries a backdoor: search the vocabulary for tokens and phrases that flip clean inputs",
        "and push the attention heads off their clean behaviour; report the verdict, the heads and the candidate triggers."})
final class ScanModelCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Mixin
    ScanOptions scoring = new ScanOptions();

    @Option(names = "--victims", defaultValue = "64", description = "Clean inputs per class that candidates are inserted into (default: ${DEFAULT-VALUE}).")
    int victims;

    @Option(names = "--screened", defaultValue = "128", description = "Tokens per class from the gradient ranking screened by flip rate on a few inputs (default: ${DEFAULT-VALUE}).")
    int screened;

    @Option(names = "--candidates", defaultValue = "24", description = "Tokens per class evaluated exactly after screening (default: ${DEFAULT-VALUE}).")
    int candidates;

    @Option(names = "--threshold", description = "Verdict threshold on the score (default: 0.5 for a classifier; 0.1 for a decoder, whose score is a gain in probability).")
    Double threshold;

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
        if (threshold != null && !(threshold >= 0 && threshold <= 1)) {
            throw new HeadGuardException("--threshold must be between 0 and 1, the score's range (got " + threshold + ")");
        }
        OptionChecks.outputFiles(out, html);
        model.checkMaxLength();
        if (model.config().family().decoder && model.config().languageModel() && !model.config().hasClassifier()) {
            return decoder();
        }
        List<String> clean = scoring.cleanTexts();
        List<String> suspects = suspect == null ? null : SentenceFile.readSentences(suspect);
        if (suspects != null && suspects.isEmpty()) {
            throw new HeadGuardException(suspect + ": no texts");
        }
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = model.load(root)) {
            ModelScanner.Settings settings = new ModelScanner.Settings(victims, screened, candidates, 4, threshold == null ? ModelScanner.Settings.defaults().threshold() : threshold, scoring.seed, scoring.settings(),
                    sweep, ModelScanner.Settings.defaults().sweepExact());
            UnsupportedFlips.Evidence labelled = UnsupportedFlips.Evidence.ofLabelledFile(scoring.clean, m.model().config().numLabels());
            if (labelled == null) {
                System.err.println("note: " + scoring.clean + " has no integer 'label' column: the word counts behind unsupported flips use the model's own predictions");
            }
            ModelAudit.Result audit = ModelAudit.run(m, new ModelAudit.Request(clean, labelled, settings,
                    suspects == null ? null : SentenceFile.readSentences(scoring.clean), suspects,
                    HiddenStateScan.Settings.defaults(scoring.seed).withFrr(scoring.frr)), root, StageProgress::new);
            ModelScanner.Result r = audit.search();
            List<String> words = ModelScanFile.recoveredWords(audit);
            ObjectNode o = ModelScanFile.json(m.directory().toString(), scoring.clean.toString(), r);
            if (audit.suspects() != null) {
                ModelScanFile.putSuspects(o, audit, suspects.size(), scoring.frr, words);
            }
            ObjectMapper om = new ObjectMapper();
            if (out != null) {
                AtomicFiles.write(out, om.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n");
            }
            if (html != null) {
                ModelScanPage.Maps maps = ModelScanPage.maps(m, r, root); // model passes: only for the page
                AtomicFiles.write(html, ModelScanPage.html(m.directory().toString(), scoring.clean.toString(), r, maps, audit.suspects() == null ? ""
                        : ScanPages.populationSection("The suspects", audit.suspects().hidden(), scoring.frr, words)));
            }
            System.out.print(json ? om.writeValueAsString(o) + System.lineSeparator()
                    : ModelScanPage.summary(m.directory().toString(), clean.size(), audit, scoring.frr, words));
            return failOnDetect && audit.backdoor() ? Main.DETECTED : 0;
        }
    }

    /** A decoder language model: the continuation search, then the heads its strongest candidate changes. */
    private int decoder() throws Exception {
        if (suspect != null) {
            throw new HeadGuardException("--suspect: not yet for a decoder language model");
        }
        OptionChecks.atLeast("--clean-limit", scoring.cleanLimit, 0);
        List<String> prompts = dev.headguard.text.Sample.of(dev.headguard.text.PromptResponseFile.readPrompts(scoring.clean), scoring.cleanLimit, scoring.seed);
        ContinuationSearch.Settings settings = ContinuationSearch.Settings.defaults(scoring.seed).with(candidates,
                threshold == null ? ContinuationSearch.DEFAULT_THRESHOLD : threshold);
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = model.load(root)) {
            ProgressBar progress = new ProgressBar();
            ContinuationAudit.Result a = ContinuationAudit.run(m, prompts, settings, root, progress::stage);
            ObjectNode o = ModelScanFile.json(m.directory().toString(), scoring.clean.toString(), prompts.size(), settings.threshold(), a);
            ObjectMapper om = new ObjectMapper();
            if (out != null) {
                AtomicFiles.write(out, om.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n");
            }
            if (html != null) {
                AtomicFiles.write(html, ContinuationScanPage.html(m.directory().toString(), scoring.clean.toString(), prompts.size(), settings.threshold(), a,
                        ContinuationScanPage.maps(m, a, root))); // model passes: only for the page
            }
            System.out.print(json ? om.writeValueAsString(o) + System.lineSeparator() : ContinuationScanPage.summary(m.directory().toString(), a, settings.threshold()));
            return failOnDetect && a.search().backdoor() ? Main.DETECTED : 0;
        }
    }
}
