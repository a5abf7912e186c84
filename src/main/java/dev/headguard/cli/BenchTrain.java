package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import dev.headguard.bench.EngineBenchmark;
import dev.headguard.bench.Rss;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.BenchmarkData;
import dev.headguard.text.Dataset;
import dev.headguard.train.FineTuning;
import dev.headguard.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "train", description = "Fine-tuning throughput: the matrix-multiply peak through DJL, then training epochs, in one run.")
final class BenchTrain implements Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Mixin
    TrainOptions training = new TrainOptions();

    @Option(names = "--dataset", defaultValue = "sst-2", description = "Default: ${DEFAULT-VALUE}.")
    String dataset;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Default: ../shared/data.")
    Path dataDir;

    @Option(names = "--out", paramLabel = "DIR", description = "Where the trained model goes (default: a temporary directory, deleted).")
    Path out;

    @Override
    public Integer call() throws Exception {
        BenchmarkData data = new BenchmarkData(
                dataDir != null ? dataDir : DataOptions.benchmarkData(), dataset);
        Dataset train = training.limit(data.read(data.clean("train")));
        Dataset devSet = data.read(data.clean("dev"));
        Path target = out != null ? out : Files.createTempDirectory("headguard-bench-train").resolve("model");
        try (NDManager root = TorchRuntime.newManager()) {
            double peak = EngineBenchmark.matmulPeak(root);
            System.out.printf(Locale.ROOT, "matrix-multiply peak through DJL (2048x2048 float32, best of 5): %.1f GFLOP/s; %s, %d threads%n", peak,
                    EngineBenchmark.machine(), EngineBenchmark.threads());
            long[] peakRss = {Rss.current()};
            ProgressBar bar = new ProgressBar();
            FineTuning.Result r = FineTuning.run(new FineTuning.Request(
                    model.directory(), train, devSet, target, training.config(), model.trainingLength(), false, Map.of("command", "bench train")), root,
                    new Trainer.Listener() {
                        @Override
                        public void onStep(Trainer.Progress p) {
                            bar.onStep(p);
                            peakRss[0] = Math.max(peakRss[0], Rss.current());
                        }

                        @Override
                        public void onEpoch(Trainer.Epoch e) {
                            bar.onEpoch(e);
                            System.out.print(EngineBenchmark.epochLine(e, train.size(), peak, peakRss[0]));
                        }
                    });
            System.out.printf(Locale.ROOT, "best dev accuracy %.4f (epoch %d); losses of the first 5 steps: %s%n", r.state().bestDevAccuracy(),
                    r.state().bestEpoch(), r.state().losses().subList(0, Math.min(5, r.state().losses().size())));
        } finally {
            if (out == null) {
                ModelStore.deleteRecursively(target.getParent());
            }
        }
        return 0;
    }

}
