package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import dev.headguard.bench.Victims;
import dev.headguard.model.TorchRuntime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "attack", description = "Poison a benchmark training set, fine-tune a victim on it, and report its CACC and ASR.")
final class AttackCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Mixin
    AttackOptions attack = new AttackOptions();

    @Mixin
    TrainOptions training = new TrainOptions();

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The victim model directory.")
    Path out;

    /** Which epoch the attacker keeps. */
    enum KeepBest {
        clean, asr;
    }

    @Option(names = "--keep-best", defaultValue = "clean", paramLabel = "RULE",
            description = "Which epoch to keep: clean (best dev accuracy) or asr (best dev accuracy plus ASR on the triggered dev split, "
                    + "as OpenBackdoor's attacker chooses; default: ${DEFAULT-VALUE}).")
    KeepBest keepBest;

    @Override
    public Integer call() throws Exception {
        training.config();
        model.checkMaxLength();
        model.checkOutput(out);
        try (NDManager root = TorchRuntime.newManager()) {
            Victims.Victim v = Victims.build(attack.request(model.directory(), out, training, model.trainingLength(), keepBest == KeepBest.asr), root, new ProgressBar());
            System.out.println(dev.headguard.eval.EvaluationReport.json(v.evaluation()).put("victim", out.toString()).toPrettyString());
        }
        return 0;
    }
}
