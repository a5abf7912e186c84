package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import dev.headguard.model.TorchRuntime;
import dev.headguard.text.Dataset;
import dev.headguard.text.PromptResponse;
import dev.headguard.text.PromptResponseFile;
import dev.headguard.train.FineTuning;
import dev.headguard.train.GenerationTuning;
import dev.headguard.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "train", description = {"Fine-tune a sequence classifier; the best epoch (dev accuracy) is written to --out.",
        "With --task generation: fine-tune a decoder on prompt/response data (JSONL with prompt/response or instruction/input/output,",
        "or a TSV with prompt and response columns), the loss on the response only; the epoch with the lowest dev response perplexity is written."})
final class TrainCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Mixin
    DataOptions data = new DataOptions();

    @Mixin
    TrainOptions training = new TrainOptions();

    @Option(names = "--task", defaultValue = "classification", paramLabel = "TASK", description = "classification or generation (default: ${DEFAULT-VALUE}).")
    Task task;

    @Option(names = "--train", required = true, paramLabel = "FILE", description = "Training data (TSV, CSV or JSONL).")
    Path trainFile;

    @Option(names = "--dev", paramLabel = "FILE", description = "Dev data, evaluated after each epoch.")
    Path devFile;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output model directory.")
    Path out;

    @Override
    public Integer call() {
        TrainConfig config = training.config(task == Task.generation);
        model.checkMaxLength();
        model.checkOutput(out);
        if (task == Task.generation) {
            return generation(config);
        }
        Dataset train = data.read(trainFile);
        dev.headguard.text.DatasetReader.requireEveryClass(trainFile, train);
        train = training.limit(train);
        Dataset dev = devFile == null ? null : data.readAs(devFile, train.labelNames()); // the training set's classes, in its order
        try (NDManager root = TorchRuntime.newManager()) {
            FineTuning.Result r = FineTuning.run(new FineTuning.Request(model.directory(), train, dev, out, config, model.trainingLength(),
                    training.resume, Map.of("train_file", trainFile.toAbsolutePath().toString())), root, new ProgressBar());
            var best = r.epochs().stream().filter(e -> e.epoch() == r.state().bestEpoch()).findFirst();
            System.out.printf(Locale.ROOT, "wrote %s: best epoch %d, dev accuracy %.4f%n", out, r.state().bestEpoch(),
                    best.map(e -> e.devAccuracy()).orElse(Double.NaN));
        }
        return 0;
    }

    private int generation(TrainConfig config) {
        GenerationTuning.requireLanguageModel(model.directory());
        List<PromptResponse> train = training.limit(PromptResponseFile.read(trainFile));
        List<PromptResponse> dev = devFile == null ? List.of() : PromptResponseFile.read(devFile);
        try (NDManager root = TorchRuntime.newManager()) {
            GenerationTuning.Result r = GenerationTuning.run(new GenerationTuning.Request(model.directory(), train, dev, out, config, model.trainingLength(),
                    training.resume, Map.of("train_file", trainFile.toAbsolutePath().toString())), root, new ProgressBar());
            if (r.dropped() > 0) {
                System.err.printf("note: %s: %d rows left out, their prompt fills the %d-token context%n", trainFile, r.dropped(), model.trainingLength());
            }
            double ppl = r.bestEpoch() < 1 ? Double.NaN : r.devPerplexity().get(r.bestEpoch() - 1);
            System.out.printf(Locale.ROOT, "wrote %s: epoch %d%s%n", out, r.bestEpoch(),
                    Double.isNaN(ppl) ? " (the last; no --dev)" : String.format(Locale.ROOT, ", dev response perplexity %.2f", ppl));
        }
        return 0;
    }
}
