package dev.headguard.api;

import dev.headguard.repair.RepairPlan;
import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.detect.hidden.CandidateDirection;
import dev.headguard.detect.hidden.HiddenStateScan;
import dev.headguard.detect.CalibratedFilter;
import dev.headguard.detect.ContinuationAudit;
import dev.headguard.detect.InputAudit;
import dev.headguard.detect.search.ContinuationSearch;
import dev.headguard.repair.GenerationDefense;
import dev.headguard.text.PromptResponse;
import dev.headguard.text.PromptResponseFile;
import dev.headguard.detect.attention.InputScanner;
import dev.headguard.detect.search.ModelScanner;
import dev.headguard.detect.attention.Probe;
import dev.headguard.detect.search.UnsupportedFlips;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.BuiltinModel;
import dev.headguard.model.io.ModelStore;
import dev.headguard.repair.Defense;
import dev.headguard.repair.HeadGuardRepair;
import dev.headguard.repair.RepairOutcome;
import dev.headguard.report.ModelScanFile;
import dev.headguard.text.DatasetReader;
import dev.headguard.text.Sample;
import dev.headguard.text.SentenceFile;

import java.nio.file.Path;
import java.util.List;

/**
 * HeadGuard for a JVM service, in a few calls:
 * <pre>
 * try (HeadGuard hg = HeadGuard.load("path/to/model")) {
 *     ModelScanner.Result verdict = hg.scanModel(Path.of("dev.tsv"));     // backdoored? which heads, which triggers
 *     InputFilter filter = hg.inputFilter(Path.of("dev.tsv"), 0.05);      // at a 5% false-rejection rate
 *     boolean triggered = filter.flagged("an incoming text");
 *     hg.repair(Path.of("small-clean.tsv"), Path.of("repaired"));        // the blind repair, written out
 * }
 * </pre>
 * The same work as {@code scan model}, {@code scan inputs} and {@code repair} with their defaults. A
 * decoder language model takes the same calls on prompt/response files, its verdict from
 * {@link #scanLanguageModel}; its filter scores a prompt by how likely it makes the output the scan elicited.
 * One instance holds one model in native memory; it is not for concurrent use. A repair changes
 * that model: filters made before it refuse to score (make a new one).
 */
public final class HeadGuard implements AutoCloseable {
    /** The seed of every sample and search the API draws, as the commands' default {@code --seed}. */
    private static final long SEED = 42;

    private final NDManager root;
    private final ModelStore.LoadedModel model;
    private Path scannedFile;
    private ModelScanner.Result scanned;
    /** Counts repairs: a filter calibrated on an earlier model refuses to score ({@link InputFilter}). */
    private int repairs;

    private HeadGuard(NDManager root, ModelStore.LoadedModel model) {
        this.root = root;
        this.model = model;
    }

    /** A HuggingFace model directory, or a built-in model's name ({@code minilm}, {@code bge-small}). */
    public static HeadGuard load(String model) {
        return load(model, 0);
    }

    /** The same, with texts cut at {@code maxLength} tokens (0: the model's limit, at most 512). */
    public static HeadGuard load(String model, int maxLength) {
        NDManager root = TorchRuntime.newManager();
        try {
            return new HeadGuard(root, ModelStore.load(BuiltinModel.resolve(model), root, maxLength));
        } catch (RuntimeException e) {
            root.close();
            throw e;
        }
    }

    /** The loaded model (its directory, configuration and tokenizer). */
    public ModelStore.LoadedModel model() {
        return model;
    }

    /**
     * Whether the model carries a backdoor, which heads carry it and which words fire it: the model
     * scan on a seeded sample of 200 texts of {@code cleanFile}, with its labels (when it has an integer
     * {@code label} column) for the unsupported-flip check.
     */
    public ModelScanner.Result scanModel(Path cleanFile) {
        if (languageModel()) {
            throw new HeadGuardException(model.directory() + ": a decoder language model; its verdict is scanLanguageModel's");
        }
        List<String> texts = Sample.of(cleanTexts(cleanFile), ModelScanFile.FILTER_SCAN_TEXTS, SEED);
        scanned = ModelScanner.scan(model, texts, UnsupportedFlips.Evidence.ofLabelledFile(cleanFile, model.model().config().numLabels()),
                ModelScanner.Settings.defaults(), root, Probe.Progress.NONE);
        scannedFile = cleanFile;
        return scanned;
    }

    /**
     * A decoder language model's verdict, trigger candidates, what each makes clean prompts say, and the
     * heads the strongest changes: {@code scan model} with its defaults on every prompt of {@code cleanFile}
     * (prompt/response rows, or one prompt per line).
     */
    public ContinuationAudit.Result scanLanguageModel(Path cleanFile) {
        if (!languageModel()) {
            throw new HeadGuardException(model.directory() + ": not a decoder language model; its verdict is scanModel's");
        }
        return ContinuationAudit.run(model, PromptResponseFile.readPrompts(cleanFile), ContinuationSearch.Settings.defaults(SEED), root, stage -> {});
    }

    private boolean languageModel() {
        var c = model.model().config();
        return c.family().decoder && c.languageModel() && !c.hasClassifier();
    }

    /**
     * The default per-input filter of {@code scan inputs}, calibrated on {@code cleanFile} at the
     * false-rejection rate {@code frr}: the attention scan, or the hidden-state direction of the clean
     * texts carrying the model scan's evidence when that flags more of them (the model scan runs once
     * and is cached under {@code HEADGUARD_HOME}); the attention scan alone when the model scan
     * cannot run.
     */
    public InputFilter inputFilter(Path cleanFile, double frr) {
        return inputFilter(cleanFile, InputFilter.Settings.defaults().withFrr(frr));
    }

    /** The same with {@code scan inputs}' other settings ({@code --features}, {@code --clean-limit}, {@code --seed}, {@code --no-model-scan}, ...). */
    public InputFilter inputFilter(Path cleanFile, InputFilter.Settings s) {
        if (s.cleanLimit() < 0) {
            throw new HeadGuardException("--clean-limit must be at least 0, got " + s.cleanLimit());
        }
        InputScanner.Settings settings = s.scoring();
        if (languageModel()) {
            return promptFilter(cleanFile, s);
        }
        List<String> clean = Sample.of(cleanTexts(cleanFile), s.cleanLimit(), settings.seed());
        if (clean.size() < InputScanner.MIN_CLEAN) {
            throw new HeadGuardException(cleanFile + ": " + clean.size() + " clean texts; a scan needs at least " + InputScanner.MIN_CLEAN);
        }
        List<CandidateDirection.Evidence> evidence = null;
        if (s.modelScan()) {
            try {
                evidence = ModelScanFile.filterEvidence(model, cleanFile, clean, s.cleanLimit(), settings, root, Probe.Progress.NONE);
            } catch (HeadGuardException e) {
                evidence = null; // a model scan that cannot run (a model that calls almost everything one class): the attention scan serves
            }
        }
        HiddenStateScan.Settings hidden = HiddenStateScan.Settings.defaults(settings.seed()).withFrr(settings.frr());
        // The audit of no inputs calibrates every part of the filter; each text is scored on its own later.
        InputAudit.Result calibrated = InputAudit.run(model, new InputAudit.Request(clean, List.of(clean.get(0)), settings, hidden, false, null, evidence, false),
                root, stage -> Probe.Progress.NONE);
        int calibratedAt = repairs;
        return new InputFilter(CalibratedFilter.of(model, calibrated), root, () -> repairs == calibratedAt);
    }

    /**
     * A decoder's default filter, as {@code scan inputs}': the output the (cached) model scan elicits,
     * and a threshold at the clean prompts' (1 − FRR) quantile of how likely each makes it.
     */
    private InputFilter promptFilter(Path cleanFile, InputFilter.Settings s) {
        long seed = s.scoring().seed();
        List<String> clean = Sample.of(PromptResponseFile.readPrompts(cleanFile), s.cleanLimit(), seed);
        if (clean.size() < InputScanner.MIN_CLEAN) {
            throw new HeadGuardException(cleanFile + ": " + clean.size() + " clean prompts; a scan needs at least " + InputScanner.MIN_CLEAN);
        }
        String target = s.modelScan() ? ModelScanFile.cachedElicitedTarget(model, cleanFile, s.cleanLimit(), clean, seed, root, stage -> {}) : null;
        if (target == null) {
            throw new HeadGuardException(model.directory() + ": " + (s.modelScan() ? "the model scan elicited no output" : "no model scan")
                    + "; a decoder's filter scores prompts by the output it elicits");
        }
        double threshold = ContinuationAudit.targetThreshold(model, clean, target, s.scoring().frr(), root);
        int calibratedAt = repairs;
        return InputFilter.ofTarget(model, target, threshold, root, () -> repairs == calibratedAt);
    }

    /**
     * The blind repair (the model scan, head-wise alignment against its candidates, then resisting the
     * hidden shift), on a labelled clean file; the repaired model is written to {@code out} (and is
     * this instance's model from then on). When {@link #scanModel} ran on the same file, its scan is
     * the repair's (the repair would make the same one). Returns what was repaired: a
     * {@link dev.headguard.repair.HeadGuardOutcome.Aligned} (heads, candidates, the resisting stage) whose {@code details()} is
     * the block written to the repaired model's headguard.json.
     */
    public RepairOutcome repair(Path cleanFile, Path out) {
        if (languageModel()) {
            List<PromptResponse> rows = PromptResponseFile.read(cleanFile);
            if (rows.isEmpty()) {
                throw new HeadGuardException(cleanFile + ": no rows");
            }
            try {
                return new RepairOutcome.Plain(GenerationDefense.named("headguard", SEED)
                        .applyAndSave(model, rows, cleanFile.toString(), out, "api repair", root, new Defense.Progress() {}));
            } finally {
                repairs++;
            }
        }
        var set = DatasetReader.read(cleanFile);
        if (set.size() == 0) {
            throw new HeadGuardException(cleanFile + ": no rows");
        }
        RepairPlan plan = scanned != null && cleanFile.equals(scannedFile) ? RepairPlan.of(scanned) : null;
        try {
            return new HeadGuardRepair(HeadGuardRepair.Settings.defaults(), plan)
                    .applyAndSave(model, set, cleanFile.toString(), out, "api repair", root, new Defense.Progress() {});
        } finally {
            repairs++; // the model in memory changed, written or not: earlier filters must refuse
            scanned = null;
        }
    }

    private static List<String> cleanTexts(Path cleanFile) {
        List<String> t = SentenceFile.readSentences(cleanFile);
        if (t.size() < InputScanner.MIN_CLEAN) {
            throw new HeadGuardException(cleanFile + ": " + t.size() + " clean texts; a scan needs at least " + InputScanner.MIN_CLEAN);
        }
        return t;
    }

    @Override
    public void close() {
        model.close();
        root.close();
    }
}
