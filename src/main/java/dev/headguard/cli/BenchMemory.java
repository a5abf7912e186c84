package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import dev.headguard.bench.EngineBenchmark;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "memory", description = {"Runs many forward batches (attention maps returned) and reports the process RSS: it must stay flat.",
        "To see native memory alone, fix and pre-touch the heap: HEADGUARD_JAVA_OPTS=\"-Xms512m -Xmx512m -XX:+AlwaysPreTouch\"."})
final class BenchMemory implements Callable<Integer> {
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
        List<String> sentences = DataOptions.sentences(data == null ? DataOptions.defaultSentences() : data, 0);
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
