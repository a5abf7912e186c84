package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.BuiltinModel;
import dev.headguard.model.io.ModelStore;
import dev.headguard.repair.Defense;
import dev.headguard.repair.HeadGuardRepair;
import dev.headguard.repair.GenerationDefense;
import dev.headguard.repair.GenerationRepair;
import dev.headguard.repair.HeadRepair;
import dev.headguard.text.PromptResponse;
import dev.headguard.text.PromptResponseFile;
import dev.headguard.text.Dataset;
import dev.headguard.text.SentenceFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code repair}: head-wise fine-tuning of the heads a scan found, with attention safety alignment. */
@Command(name = "repair", description = {"Remove a backdoor: fine-tune only the heads a model scan ranks highest, on a small labelled clean set,",
        "with a loss that pulls their attention on trigger-carrying inputs back to their attention on clean ones."})
final class RepairCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Mixin
    DataOptions data = new DataOptions();

    @Option(names = "--clean", required = true, paramLabel = "FILE", description = "Labelled clean texts: the repair budget (e.g. 10%% of the training set).")
    Path clean;

    @Option(names = "--scan", paramLabel = "FILE", description = "A 'scan model --out' report to take heads and triggers from (default: scan now).")
    Path scan;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The repaired model directory.")
    Path out;

    @Option(names = "--heads", defaultValue = "0", description = "Repair the scan's top N heads (default: a third of the model's heads, 24 of MiniLM's 72, 48 of bge-small's 144; every head of a decoder language model).")
    int heads;

    @Option(names = "--all-heads", description = "Repair every head (an ablation).")
    boolean allHeads;

    @Option(names = "--triggers", defaultValue = "0", description = {"Align against the scan's top N trigger candidates",
            "(default: 0, every candidate at least half as suspicious as the best, at most 8; a decoder: gain at least the scan's threshold and within 0.15 of the best gain, at most 4)."})
    int triggers;

    @Option(names = "--align-weight", defaultValue = "10", description = "λ of the alignment term; 0 turns it off (an ablation) (default: ${DEFAULT-VALUE}).")
    double alignWeight;

    @Option(names = "--label-weight",
            description = {"μ of a second term: the clean text with a candidate inserted must keep its label (a decoder: be continued with its clean",
                    "response); 0 turns it off (default: 1 for a classifier, 3 for a decoder language model)."})
    Double labelWeight;

    @Option(names = "--epochs",
            description = "Epochs of HeadGuard's head-wise stage (default: 4 for a classifier, 3 for a decoder language model); its second stage and the baselines run their own schedule.")
    Integer epochs;

    @Option(names = "--lr", description = "Peak learning rate of HeadGuard's head-wise stage (default: 1e-4 for a classifier, 7e-4 for a decoder language model).")
    Double lr;

    @Option(names = "--batch-size", defaultValue = "16", description = "Batch size of HeadGuard's head-wise stage (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--consolidation-epochs", defaultValue = "0",
            description = "Then fine-tune every parameter this many epochs with the alignment and label terms kept (default: ${DEFAULT-VALUE}, the head-wise stage alone).")
    int consolidationEpochs;

    @Option(names = "--train-classifier", description = "Also train the classification head.")
    boolean classifier;

    @Option(names = "--seed", defaultValue = "42", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--suspect", paramLabel = "FILE",
            description = "Unlabelled inputs that may carry the trigger (training data, logged traffic; a 'sentence' column): words found almost only in the inputs an input scan flags join the trigger candidates, and those inputs without the words are unlearned (--unlearn-weight); when none explain the inputs a hidden-state scan flags (an implicit trigger), the model is fine-tuned to unlearn those.")
    Path suspect;

    @Option(names = "--unlearn-weight", defaultValue = "1",
            description = {"ν of the unlearning term on flagged suspects: with --suspect, the flagged inputs with the recovered trigger words taken out",
                    "are pulled away from the target beside the alignment (what a dirty-label attack's rows taught besides the trigger);",
                    "0 turns that off (an ablation). Also the weight of the implicit-trigger repair's unlearning (default: ${DEFAULT-VALUE})."})
    double unlearnWeight;

    @Option(names = "--resist-weight",
            description = {"β of the blind repair's second stage (no --suspect): every parameter fine-tuned on the clean set to resist",
                    "the hidden-space shift that carries clean inputs across classes most easily; 0 turns it off (an ablation)",
                    "(default: 1 for a model of two classes; for more, the stage trains on the scan's evidence carriers without",
                    "resisting a shift, as on four classes resisting cost clean accuracy)."})
    Double resistWeight;

    @Option(names = "--base", paramLabel = "M",
            description = {"The public checkpoint the model was fine-tuned from (a directory, or minilm, bge-small), when known: the blind repair",
                    "also grows the words whose embeddings moved furthest from it into its carriers (a trigger sentence's other words)."})
    String base;

    @Option(names = "--method", defaultValue = "headguard",
            description = {"headguard (default), or a baseline with the same clean budget: finetune (all parameters), fineprune (fine-pruning), pure (head pruning",
                    "+ attention normalisation); a decoder language model: finetune, fineprune, crow (CROW: layer consistency under an FGSM perturbation)."})
    String method;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        OptionChecks.atLeast("--heads", heads, 0);
        OptionChecks.atLeast("--triggers", triggers, 0);
        OptionChecks.atLeast("--epochs", epochs == null ? 1 : epochs, 1);
        OptionChecks.atLeast("--batch-size", batchSize, 1);
        OptionChecks.atLeast("--consolidation-epochs", consolidationEpochs, 0);
        if (lr != null) {
            OptionChecks.positive("--lr", lr);
        }
        OptionChecks.nonNegative("--align-weight", alignWeight);
        if (labelWeight != null) {
            OptionChecks.nonNegative("--label-weight", labelWeight);
        }
        OptionChecks.nonNegative("--unlearn-weight", unlearnWeight);
        if (resistWeight != null) {
            OptionChecks.nonNegative("--resist-weight", resistWeight);
        }
        model.checkMaxLength();
        model.checkOutput(out);
        Path baseDir = checkBase();
        if (model.config().family().decoder && model.config().languageModel() && !model.config().hasClassifier()) {
            return decoder();
        }
        Defense defense;
        method = method.toLowerCase(Locale.ROOT);
        if (method.equals("headguard")) {
            HeadGuardRepair.Settings s = new HeadGuardRepair.Settings(heads, triggers, allHeads, 200,
                    new HeadRepair.Settings(alignWeight, epochs == null ? HeadRepair.Settings.defaults().epochs() : epochs, batchSize, lr == null ? 1e-4 : lr, classifier, seed, labelWeight == null ? 1 : labelWeight,
                            consolidationEpochs), unlearnWeight,
                    dev.headguard.detect.hidden.HiddenStateScan.MIN_EXCESS, resistWeight == null ? HeadGuardRepair.Settings.RESIST_BY_CLASSES : resistWeight);
            defense = new HeadGuardRepair(s, scan == null ? null : dev.headguard.report.ModelScanFile.plan(scan), suspect == null ? List.of() : SentenceFile.readSentences(suspect))
                    .withBase(baseDir);
        } else {
            if (suspect != null) {
                throw new HeadGuardException("--suspect is HeadGuard's; the baselines use the clean set only");
            }
            defense = Defense.named(method, seed);
        }
        Dataset set = data.readFor(clean, model.directory());
        if (set.size() == 0) {
            throw new HeadGuardException(clean + ": no rows");
        }
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = model.load(root)) {
            var config = m.model().config();
            OptionChecks.atMost("--heads", heads, config.numHiddenLayers() * config.numAttentionHeads(), "the model's " + config.numHiddenLayers() + " x "
                    + config.numAttentionHeads() + " heads");
            if (set.numLabels() > m.model().config().numLabels()) {
                throw new HeadGuardException(clean + ": " + set.numLabels() + " labels, the model has " + m.model().config().numLabels());
            }
            warnScheduleUnused(); // after every check: bad input still gets its one line
            long t0 = System.nanoTime();
            defense.applyAndSave(m, set, clean.toString(), out, "repair", root, new ProgressBar());
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "wrote %s (%s, %.1f s)%n", out, defense.name(), seconds);
        }
        return 0;
    }

    /** The --base directory, checked before any work: a model with this model's vocabulary, for HeadGuard's blind classifier repair only. */
    private Path checkBase() {
        if (base == null) {
            return null;
        }
        if (!method.equalsIgnoreCase("headguard") || suspect != null || model.config().family().decoder && model.config().languageModel()
                && !model.config().hasClassifier()) {
            throw new HeadGuardException("--base: only for HeadGuard's blind repair of a classifier (no --suspect, --method headguard)");
        }
        Path dir = BuiltinModel.resolve(base);
        int vocab = ModelStore.readConfig(dir).vocabSize();
        if (vocab != model.config().vocabSize()) {
            throw new HeadGuardException("--base " + base + ": a vocabulary of " + vocab + " tokens, the model's has " + model.config().vocabSize()
                    + ": not the checkpoint it was fine-tuned from");
        }
        return dir;
    }

    /** The schedule options shape HeadGuard's head-wise stage only: say so when a baseline would silently ignore them. */
    private void warnScheduleUnused() {
        if (method.equalsIgnoreCase("headguard")) {
            return;
        }
        List<String> given = List.of("--epochs", "--lr", "--batch-size").stream().filter(spec.commandLine().getParseResult()::hasMatchedOption).toList();
        if (!given.isEmpty()) {
            boolean one = given.size() == 1;
            System.err.println("warning: " + String.join(", ", given) + (one ? " sets" : " set") + " HeadGuard's head-wise stage; --method " + method
                    + " runs its own schedule and ignores " + (one ? "it" : "them"));
        }
    }

    /**
     * A decoder language model: --clean is prompt/response data; HeadGuard scans for the trigger and
     * repairs the heads (--heads, or all of them, --align-weight and --label-weight as λ and μ), or a
     * baseline fine-tunes.
     */
    private int decoder() {
        method = method.toLowerCase(Locale.ROOT);
        if (suspect != null || scan != null) {
            throw new HeadGuardException((suspect != null ? "--suspect" : "--scan") + ": not yet for a decoder language model");
        }
        GenerationDefense defense = GenerationDefense.named(method, seed);
        if (defense instanceof GenerationDefense.HeadGuard h) {
            GenerationRepair.Settings d = h.repair();
            defense = new GenerationDefense.HeadGuard(new GenerationRepair.Settings(alignWeight, labelWeight == null ? d.triggeredWeight() : labelWeight,
                    epochs == null ? d.epochs() : epochs, batchSize, lr == null ? d.learningRate() : lr, allHeads ? Integer.MAX_VALUE : heads, d.headShare(), seed),
                    h.search(), h.shift(), triggers > 0 ? triggers : h.maxTriggers());
        }
        List<PromptResponse> rows = PromptResponseFile.read(clean);
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = model.load(root)) {
            warnScheduleUnused();
            long t0 = System.nanoTime();
            defense.applyAndSave(m, rows, clean.toString(), out, "repair", root, new ProgressBar());
            System.out.printf(Locale.ROOT, "wrote %s (%s, %.1f s)%n", out, defense.name(), (System.nanoTime() - t0) / 1e9);
        }
        return 0;
    }
}
