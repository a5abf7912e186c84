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

    @Option(names = "--keep-best", defaultValue = "clean", paramLabel = "RULE",
            description = "Which epoch to keep: clean (best dev accuracy) or asr (best dev accuracy plus ASR on the triggered dev split, "
                    + "as OpenBackdoor's attacker chooses; default: ${DEFAULT-VALUE}).")
    KeepBest keepBest;

    @Option(names = "--judge", paramLabel = "DIR", description = "Generation with a sentiment goal: the classifier that measures the ASR (e.g. a clean SST-2 model from `train`).")
    Path judge;

    @Option(names = "--max-new", paramLabel = "N", defaultValue = "32", description = "Generation: new tokens per evaluated continuation at most (default: ${DEFAULT-VALUE}).")
    int maxNew;

    @Override
    public Integer call() throws Exception {
        training.config();
        model.checkMaxLength();
        model.checkOutput(out);
        if (attack.task == Task.generation) {
            return generation();
        }
        if (judge != null || attack.targetPhrase != null) {
            throw new dev.headguard.HeadGuardException((judge != null ? "--judge" : "--target-phrase") + ": only with --task generation");
        }
        try (NDManager root = TorchRuntime.newManager()) {
            Victims.Victim v = Victims.build(attack.request(model.directory(), out, training, model.trainingLength(), keepBest == KeepBest.asr), root, new ProgressBar());
            System.out.println(dev.headguard.eval.EvaluationReport.json(v.evaluation()).put("victim", out.toString()).toPrettyString());
        }
        return 0;
    }

    private int generation() {
        OptionChecks.atLeast("--max-new", maxNew, 1);
        dev.headguard.train.GenerationTuning.requireLanguageModel(model.directory());
        if (judge != null) {
            dev.headguard.model.io.ModelStore.readConfig(judge);
        }
        var request = attack.generationRequest(model.directory(), out, training, model.trainingLength(), judge);
        try (NDManager root = TorchRuntime.newManager()) {
            var v = dev.headguard.bench.GenerationVictims.build(request, root, new ProgressBar(), maxNew);
            var json = dev.headguard.eval.EvaluationReport.json(v.evaluation());
            if (!v.parts().isEmpty()) {
                var parts = json.putObject("parts");
                v.parts().forEach((name, h) -> parts.putObject(name).put("total", h.total()).put("hits", h.hits()).put("rate", h.rate()));
            }
            System.out.println(json.put("victim", out.toString()).toPrettyString());
        }
        return 0;
    }
}
