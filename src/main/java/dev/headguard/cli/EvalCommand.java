package dev.headguard.cli;

import dev.headguard.train.Predictions;
import ai.djl.ndarray.NDManager;
import dev.headguard.AtomicFiles;
import dev.headguard.detect.attention.Probe;
import dev.headguard.eval.Evaluation;
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

@Command(name = "eval", description = "Clean accuracy (CACC) and, with a triggered set, attack success rate (ASR) and label-flip rate.")
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
        Dataset cleanSet = data.readFor(clean, model.directory());
        Dataset trig = triggered == null ? null : data.readFor(triggered, model.directory());
        List<String> twins = null;
        if (triggered != null) {
            try {
                twins = SentenceFile.readTsvColumn(triggered, "clean");
            } catch (dev.headguard.HeadGuardException noTwins) {
                twins = null; // no 'clean' column: the flip rate is not computed
            }
            if (twins != null && twins.size() != trig.size()) {
                twins = null;
            }
        }
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
        if (json) {
            System.out.println(EvaluationReport.json(e).toString());
        } else {
            System.out.printf(Locale.ROOT, "CACC %.4f (%d/%d)%n", e.cacc(), e.cleanCorrect(), e.cleanTotal());
            if (trig != null) {
                System.out.printf(Locale.ROOT, "ASR  %.4f (%d/%d triggered non-target rows classified as %d)%n", e.asr(), e.toTarget(), e.asrBase(), target);
                if (!Double.isNaN(e.labelFlipRate())) {
                    System.out.printf(Locale.ROOT, "label-flip rate %.4f (%d/%d rows right without the trigger)%n", e.labelFlipRate(), e.flipped(), e.flipBase());
                }
            }
        }
        return 0;
    }
}
