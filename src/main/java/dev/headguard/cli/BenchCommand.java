package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.bench.EngineBenchmark;
import dev.headguard.bench.Rss;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.BuiltinModel;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.BenchmarkData;
import dev.headguard.text.Dataset;
import dev.headguard.text.SentenceFile;
import dev.headguard.text.TokenBatch;
import dev.headguard.train.FineTuning;
import dev.headguard.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Benchmarks: timed work that does not belong in the test suite. Without a subcommand: attacks x
 * defenses on a dataset (victims built or reused, every defense on the same clean budget), written
 * as a markdown table, JSON and an SVG chart.
 */
@Command(name = "bench", description = {"Benchmarks. Without a subcommand: attacks x defenses on a dataset, CACC and ASR of every cell,",
        "written to OUT/bench.md, bench.json and bench.svg (the table is also printed)."},
        subcommands = {BenchCommand.Encoder.class, BenchCommand.Memory.class, BenchCommand.Train.class, BenchDetect.class, BenchZoo.class, BenchFuzz.class})
final class BenchCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Mixin
    BenchDefenses run = new BenchDefenses();

    @Option(names = "--attacks", split = ",", description = "Default: badnets,addsent,syntactic,style,ep,splitword.")
    List<String> attacks = BenchDefenses.ATTACKS;

    @Option(names = "--defenses", split = ",", description = {"Default: headguard,headguard-suspect,finetune,fineprune,pure",
            "(headguard-suspect: HeadGuard also given the victim's training texts, unlabelled, as --suspect inputs)."})
    List<String> defenses = BenchDefenses.DEFENSES;

    @Option(names = "--quick", description = "A small slice: 2000 training rows, batch 16, 300 test rows.")
    boolean quick;

    @Option(names = "--out", defaultValue = "headguard-bench", paramLabel = "DIR", description = "Where the table, JSON and chart go (default: ${DEFAULT-VALUE}).")
    Path out;

    @Override
    public Integer call() throws Exception {
        BenchDefenses.checked(attacks, BenchDefenses.ATTACKS, "attack");
        BenchDefenses.checked(defenses, BenchDefenses.DEFENSES, "defense");
        dev.headguard.AtomicFiles.checkFilesFolder(out, "--out");
        model.checkMaxLength();
        System.out.print(run.run(model.directory(), model.model, attacks, defenses, quick, out, model.trainingLength()));
        System.out.println("\nwrote " + out.resolve("bench.md") + ", bench.json, bench.svg");
        return 0;
    }

    static List<String> sentences(Path data, int limit) {
        List<String> s = SentenceFile.readSentences(data);
        return limit > 0 && limit < s.size() ? s.subList(0, limit) : s;
    }

    static Path defaultData() {
        return DataOptions.benchmarkData().resolve("sst-2").resolve("clean").resolve("test.tsv");
    }

    @Command(name = "encoder", description = "Forward throughput with every attention map returned, against ONNX Runtime on the same batches.")
    static final class Encoder implements Callable<Integer> {
        @Mixin
        ModelOptions model = new ModelOptions();

        @Option(names = "--data", paramLabel = "FILE", description = "Sentences (default: SST-2 test from ../shared/data).")
        Path data;

        @Option(names = "--onnx", paramLabel = "FILE", description = "The ONNX export to compare with (default: the built-in model's own).")
        Path onnx;

        @Option(names = "--batch-size", defaultValue = "32", description = "Default: ${DEFAULT-VALUE}.")
        int batchSize;

        @Option(names = "--limit", defaultValue = "0", description = "Use only the first N sentences (0: all).")
        int limit;

        @Option(names = "--repeats", defaultValue = "2", description = "Timed passes over the data per engine; the best counts (default: ${DEFAULT-VALUE}).")
        int repeats;

        @Option(names = "--no-onnx", description = "HeadGuard alone (any model family; scripts/hf-forward-speed.py measures transformers on the same batches).")
        boolean noOnnx;

        @Override
        public Integer call() throws Exception {
            OptionChecks.atLeast("--batch-size", batchSize, 1);
            OptionChecks.atLeast("--limit", limit, 0);
            List<String> sentences = sentences(data == null ? defaultData() : data, limit);
            byte[] onnxBytes = noOnnx ? null : onnxBytes();
            int threads = EngineBenchmark.threads();
            try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = model.load(root)) {
                List<TokenBatch> batches = EngineBenchmark.batches(m, sentences, batchSize);
                long tokens = batches.stream().mapToLong(b -> (long) b.batch() * b.length()).sum();
                System.out.printf(Locale.ROOT, "%d sentences in %d batches of %d (file order, padded to the longest in each batch: %d token slots); %d threads; %s%n",
                        sentences.size(), batches.size(), batchSize, tokens, threads, EngineBenchmark.cpuName());
                EngineBenchmark.Encoder r = EngineBenchmark.encoder(m, root, batches, onnxBytes, threads, repeats);
                System.out.printf(Locale.ROOT, "HeadGuard (DJL PyTorch), all attention maps returned: %.1f sentences/s%n", r.withMaps());
                System.out.printf(Locale.ROOT, "HeadGuard (DJL PyTorch), no attention maps:           %.1f sentences/s%n", r.plain());
                if (onnxBytes == null) {
                    return 0;
                }
                System.out.printf(Locale.ROOT, "ONNX Runtime %s, original export:                %.1f sentences/s%n", r.onnxRuntimeVersion(), r.onnxRuntime());
                System.out.printf(Locale.ROOT, "ratio (with maps / ONNX Runtime): %.2fx%n", r.withMaps() / r.onnxRuntime());
            }
            return 0;
        }

        private byte[] onnxBytes() throws IOException {
            if (onnx != null) {
                if (!Files.isRegularFile(onnx)) {
                    throw new HeadGuardException(onnx + ": file not found");
                }
                return Files.readAllBytes(onnx);
            }
            BuiltinModel b = BuiltinModel.byName(model.model);
            if (b == null) {
                throw new HeadGuardException("--onnx FILE is needed to compare a model directory with ONNX Runtime");
            }
            return b.onnxBytes();
        }

    }

    @Command(name = "memory", description = {"Runs many forward batches (attention maps returned) and reports the process RSS: it must stay flat.",
            "To see native memory alone, fix and pre-touch the heap: HEADGUARD_JAVA_OPTS=\"-Xms512m -Xmx512m -XX:+AlwaysPreTouch\"."})
    static final class Memory implements Callable<Integer> {
        @Mixin
        ModelOptions model = new ModelOptions();

        @Option(names = "--data", paramLabel = "FILE", description = "Sentences (default: SST-2 test from ../shared/data).")
        Path data;

        @Option(names = "--batches", defaultValue = "2000", description = "Forward batches to run (default: ${DEFAULT-VALUE}).")
        int count;

        @Option(names = "--batch-size", defaultValue = "32", description = "Default: ${DEFAULT-VALUE}.")
        int batchSize;

        @Override
        public Integer call() {
            OptionChecks.atLeast("--batches", count, 1);
            OptionChecks.atLeast("--batch-size", batchSize, 1);
            List<String> sentences = sentences(data == null ? defaultData() : data, 0);
            try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = model.load(root)) {
                long t0 = System.nanoTime();
                // The JVM heap is part of the RSS; each line reports it so native growth can be told apart.
                EngineBenchmark.Memory r = EngineBenchmark.memory(m, root, EngineBenchmark.batches(m, sentences, batchSize), count,
                        at -> System.out.printf(Locale.ROOT, "batch %5d/%d  RSS %7.1f MiB  (JVM heap committed %6.1f MiB)  %.0f s%n", at[0], count,
                                at[1] / 1048576.0, Runtime.getRuntime().totalMemory() / 1048576.0, (System.nanoTime() - t0) / 1e9));
                System.out.printf(Locale.ROOT, "RSS after %d warm-up batches: %.1f MiB; after %d: %.1f MiB; peak %.1f MiB; growth %+.1f%%%n",
                        r.warmup(), r.baseline() / 1048576.0, count, r.end() / 1048576.0, r.peak() / 1048576.0, 100.0 * (r.end() - r.baseline()) / r.baseline());
            }
            return 0;
        }
    }

    @Command(name = "train", description = "Fine-tuning throughput: the matrix-multiply peak through DJL, then training epochs, in one run.")
    static final class Train implements Callable<Integer> {
        @Mixin
        ModelOptions model = new ModelOptions();

        @Mixin
        TrainCommand.TrainOptions training = new TrainCommand.TrainOptions();

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
                        EngineBenchmark.cpuName(), EngineBenchmark.threads());
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
                                // The JVM touches its heap lazily, and those pages count in the RSS too, so a run's RSS
                                // grows while the native footprint (DJL's arrays) stays flat. RSS minus the JVM's committed
                                // memory is the native footprint exactly when the heap is resident from the start
                                // (HEADGUARD_JAVA_OPTS="-Xms3g -Xmx3g -XX:+AlwaysPreTouch": 2142 → 2143 → 2143 MiB over three
                                // epochs of 3000 SST-2 rows); otherwise it also grows as heap pages are first touched.
                                long rss = Rss.current();
                                long jvm = Rss.jvmCommitted();
                                System.out.printf(Locale.ROOT, "epoch %d: %d sentences in %.1f s = %.1f sentences/s, %.1f GFLOP/s = %.0f%% of the matmul peak; dev accuracy %.4f; RSS %.0f MiB (peak so far %.0f MiB; JVM heap and non-heap committed %.0f MiB, the rest %.0f MiB)%n",
                                        e.epoch(), train.size(), e.seconds(), e.sentencesPerSecond(), e.gflopPerSecond(), 100 * e.gflopPerSecond() / peak,
                                        e.devAccuracy(), rss / 1048576.0, peakRss[0] / 1048576.0, jvm / 1048576.0, (rss - jvm) / 1048576.0);
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
}
