package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import dev.headguard.bench.EngineBenchmark;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.TokenBatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "encoder", description = "Forward throughput with every attention map returned, against ONNX Runtime on the same batches.")
final class BenchEncoder implements Callable<Integer> {
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
        List<String> sentences = DataOptions.sentences(data == null ? DataOptions.defaultSentences() : data, limit);
        byte[] onnxBytes = noOnnx ? null : EngineBenchmark.onnxBytes(onnx, model.model);
        int threads = EngineBenchmark.threads();
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = model.load(root)) {
            List<TokenBatch> batches = EngineBenchmark.batches(m, sentences, batchSize);
            long tokens = batches.stream().mapToLong(b -> (long) b.batch() * b.length()).sum();
            System.out.printf(Locale.ROOT, "%d sentences in %d batches of %d (file order, padded to the longest in each batch: %d token slots); %d threads; %s%n",
                    sentences.size(), batches.size(), batchSize, tokens, threads, EngineBenchmark.machine());
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
}
