package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import dev.headguard.model.TorchRuntime;
import dev.headguard.text.Dataset;
import dev.headguard.train.FineTuning;
import dev.headguard.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "train", description = "Fine-tune a sequence classifier; the best epoch (dev accuracy) is written to --out.")
final class TrainCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Mixin
    DataOptions data = new DataOptions();

    @Mixin
    TrainOptions training = new TrainOptions();

    @Option(names = "--train", required = true, paramLabel = "FILE", description = "Training data (TSV, CSV or JSONL).")
    Path trainFile;

    @Option(names = "--dev", paramLabel = "FILE", description = "Dev data, evaluated after each epoch.")
    Path devFile;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output model directory.")
    Path out;

    @Override
    public Integer call() {
        TrainConfig config = training.config();
        model.checkMaxLength();
        model.checkOutput(out);
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
}
