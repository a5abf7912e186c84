package dev.headguard.api;

import dev.headguard.repair.RepairPlan;
import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.detect.hidden.CandidateDirection;
import dev.headguard.detect.hidden.HiddenStateScan;
import dev.headguard.detect.CalibratedFilter;
import dev.headguard.detect.InputAudit;
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
 * The same work as {@code scan model}, {@code scan inputs} and {@code repair} with their defaults.
 * One instance holds one model in native memory; it is not for concurrent use. A repair changes
 * that model: filters made before it refuse to score (make a new one).
 */
public final class HeadGuard implements AutoCloseable {
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
        List<String> texts = Sample.of(cleanTexts(cleanFile), ModelScanFile.FILTER_SCAN_TEXTS, 42);
        scanned = ModelScanner.scan(model, texts, UnsupportedFlips.Evidence.ofLabelledFile(cleanFile, model.model().config().numLabels()),
                ModelScanner.Settings.defaults(), root, Probe.Progress.NONE);
        scannedFile = cleanFile;
        return scanned;
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
     * The blind repair (the model scan, head-wise alignment against its candidates, then resisting the
     * hidden shift), on a labelled clean file; the repaired model is written to {@code out} (and is
     * this instance's model from then on). When {@link #scanModel} ran on the same file, its scan is
     * the repair's (the repair would make the same one). Returns what was repaired: a
     * {@link dev.headguard.repair.HeadGuardOutcome.Aligned} (heads, candidates, the resisting stage) whose {@code details()} is
     * the block written to the repaired model's headguard.json.
     */
    public RepairOutcome repair(Path cleanFile, Path out) {
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
