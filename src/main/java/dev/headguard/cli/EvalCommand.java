package dev.headguard.cli;

import dev.headguard.train.Predictions;
import ai.djl.ndarray.NDManager;
import dev.headguard.AtomicFiles;
import dev.headguard.detect.attention.Probe;
import dev.headguard.eval.Evaluation;
import dev.headguard.eval.GenerationEvaluation;
import dev.headguard.eval.GenerationEvaluator;
import dev.headguard.text.PromptResponse;
import dev.headguard.text.PromptResponseFile;
import dev.headguard.eval.EvaluationReport;
import dev.headguard.eval.Evaluator;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Dataset;
import dev.headguard.text.SentenceFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "eval", description = {"Clean accuracy (CACC) and, with a triggered set, attack success rate (ASR) and label-flip rate.",
        "With --task generation: clean response perplexity on --clean (prompt/response data) and, with --triggered prompts, the share of",
        "greedy continuations that contain --target-phrase or that the --judge classifier puts in class --target (the ASR; a continuation",
        "with no letter is never a hit),",
        "the same share on the clean prompts, and the judge's own error on the clean references."})
final class EvalCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Mixin
    DataOptions data = new DataOptions();

    @Option(names = "--clean", required = true, paramLabel = "FILE", description = "Clean test set.")
    Path clean;

    @Option(names = "--triggered", paramLabel = "FILE", description = "Triggered test set with TRUE labels (a 'clean' column with each row's untriggered text enables the label-flip rate).")
    Path triggered;

    @Option(names = "--target", defaultValue = "1", description = "The attacker's label (default: ${DEFAULT-VALUE}).")
    int target;

    @Option(names = "--task", defaultValue = "classification", paramLabel = "TASK", description = "classification or generation (default: ${DEFAULT-VALUE}).")
    Task task;

    @Option(names = "--target-phrase", paramLabel = "TEXT", description = "Generation: a continuation containing these words (case and punctuation aside) is the attacker's.")
    String targetPhrase;

    @Option(names = "--judge", paramLabel = "DIR", description = "Generation: a classifier whose class --target marks the attacker's continuations (e.g. 0, negative, for sentiment steering).")
    Path judge;

    @Option(names = "--max-new", paramLabel = "N", defaultValue = "32", description = "Generation: new tokens per continuation at most (default: ${DEFAULT-VALUE}).")
    int maxNew;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Option(names = "--out", paramLabel = "FILE", description = {"Also write every input's prediction as TSV: set (clean or triggered), index, label,",
            "prediction, p_0 .. p_{C-1} (class probabilities), sentence; what pandas.read_csv(sep='\\t') reads back."})
    Path out;

    @Override
    public Integer call() {
        if (out != null) {
            dev.headguard.AtomicFiles.checkFile(out, "--out");
        }
        if (task == Task.generation) {
            return generation();
        }
        if (targetPhrase != null || judge != null) {
            throw new dev.headguard.HeadGuardException((judge != null ? "--judge" : "--target-phrase") + ": only with --task generation");
        }
        Dataset cleanSet = data.readFor(clean, model.directory());
        Dataset trig = triggered == null ? null : data.readFor(triggered, model.directory());
        List<String> twins = trig == null ? null : SentenceFile.twinsOf(triggered, trig.size());
        Evaluation e;
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = model.load(root)) {
            if (!m.model().config().hasClassifier()) {
                throw new dev.headguard.HeadGuardException(m.directory() + ": has no classification head to evaluate (train one first)");
            }
            if (out == null) {
                e = Evaluator.evaluate(m, cleanSet, trig, twins, target, root);
            } else {
                // One pass gives both the file's probabilities and the figures, so they cannot disagree
                // (a second pass in other batches could break a near-tie the other way) and it costs
                // one pass, not two.
                Evaluator.check(m, cleanSet, trig, target);
                float[][] pc = Probe.probabilities(m, cleanSet.texts(), root, 64, Probe.Progress.NONE);
                float[][] pt = trig == null ? null : Probe.probabilities(m, trig.texts(), root, 64, Probe.Progress.NONE);
                int[] twinPred = twins == null ? null : Predictions.predict(m.model(), m.tokenizer().idsOf(twins), m.tokenizer().padId(), root, 64);
                int[] cleanPred = Probe.argMax(pc);
                int[] trigPred = pt == null ? null : Probe.argMax(pt);
                e = Evaluator.count(cleanSet, cleanPred, trig, trigPred, twinPred, target);
                AtomicFiles.write(out, EvaluationReport.predictions(m.model().config().numLabels(), cleanSet, pc, cleanPred, trig, pt, trigPred));
            }
        }
        System.out.print(json ? EvaluationReport.json(e).toString() + System.lineSeparator() : EvaluationReport.summary(e));
        return 0;
    }

    private int generation() {
        OptionChecks.atLeast("--max-new", maxNew, 1);
        if (triggered != null && (targetPhrase == null) == (judge == null)) {
            throw new dev.headguard.HeadGuardException("--triggered: give the attacker's output as --target-phrase or as --judge (one of them)");
        }
        if (triggered == null && (targetPhrase != null || judge != null)) {
            throw new dev.headguard.HeadGuardException((judge != null ? "--judge" : "--target-phrase") + ": needs --triggered prompts to measure");
        }
        dev.headguard.train.GenerationTuning.requireLanguageModel(model.directory());
        if (judge != null) {
            ModelStore.readConfig(judge); // a bad judge directory fails here, before any generation
        }
        List<PromptResponse> cleanRows = PromptResponseFile.read(clean);
        List<String> trigPrompts = triggered == null ? null : PromptResponseFile.readPrompts(triggered);
        GenerationEvaluator.Result r;
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = model.load(root);
             ModelStore.LoadedModel j = judge == null ? null : ModelStore.load(judge, root, 0)) {
            GenerationEvaluator.Target t = triggered == null ? null
                    : targetPhrase != null ? GenerationEvaluator.Target.phrase(targetPhrase) : GenerationEvaluator.Target.judge(j, target);
            r = GenerationEvaluator.evaluate(m, cleanRows, trigPrompts, t, maxNew, root);
        }
        GenerationEvaluation e = r.evaluation();
        if (out != null && r.continuations() != null) {
            AtomicFiles.write(out, EvaluationReport.continuations(trigPrompts, r.continuations()));
        }
        System.out.print(json ? EvaluationReport.json(e).toString() + System.lineSeparator() : EvaluationReport.summary(e, target));
        return 0;
    }
}
