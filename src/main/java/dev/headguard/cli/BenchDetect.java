package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import dev.headguard.bench.DetectionBenchmark;
import dev.headguard.bench.DetectionReport;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** The shell of {@link DetectionBenchmark}: options in, its lines and JSON out. */
@Command(name = "detect", description = "AUROC and FAR at a fixed FRR of HeadGuard's input scores against STRIP and RAP on one victim.")
final class BenchDetect implements Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Option(names = "--clean", required = true, paramLabel = "FILE", description = "The defender's clean set (sentence, label), e.g. SST-2 dev; for a decoder language model, prompts (prompt/response JSONL or TSV, or .txt).")
    Path clean;

    @Option(names = "--test", required = true, paramLabel = "FILE", description = "Clean test set (sentence, label); rows of the target label are left out. For a decoder: clean prompts, all of them negatives.")
    Path test;

    @Option(names = "--triggered", required = true, paramLabel = "FILE", description = "Triggered test inputs (sentence column; for a decoder, triggered prompts).")
    Path triggered;

    @Option(names = "--target", defaultValue = "1", description = "The attacker's label (default: ${DEFAULT-VALUE}); RAP protects it.")
    int target;

    @Option(names = "--audit", paramLabel = "FILE", description = "A poisoned training set with a 'poisoned' column: precision and recall of the flagged rows.")
    Path audit;

    @Option(names = "--suspect", paramLabel = "FILE", description = {"Unlabelled suspect inputs (the model's training set, logged traffic) to learn the hidden-state",
            "direction from, then score the test inputs along it, one by one (default: the --audit file, when given)."})
    Path suspect;

    @Option(names = "--scan", paramLabel = "REPORT", description = {"A 'scan model --out' report of the victim: also score the test inputs along the direction",
            "learned from the clean set with the scan's strongest evidence put in (dev set only), alone and combined with the attention scan.",
            "For a decoder, the output it elicits is the target filter's (default: the model scan 'scan inputs' runs, from its cache)."})
    Path scanReport;

    @Option(names = "--limit", defaultValue = "0", description = "Seeded sample of N clean-set rows, N test rows and N triggered rows (0: all).")
    int limit;

    @Option(names = "--frr", defaultValue = "0.05", description = "False-rejection rate thresholds are set for (default: ${DEFAULT-VALUE}).")
    double frr;

    @Option(names = "--baselines", split = ",", defaultValue = "strip,rap", description = "Baselines to run: strip, rap, none (default: ${DEFAULT-VALUE}).")
    List<String> baselines;

    @Option(names = "--variants", description = "Also score every feature family and distance, not only the default.")
    boolean variants;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.")
    Path json;

    @Override
    public Integer call() throws Exception {
        OptionChecks.atLeast("--limit", limit, 0);
        if (json != null) {
            dev.headguard.AtomicFiles.checkFile(json, "--json");
        }
        DetectionBenchmark.Files files = new DetectionBenchmark.Files(clean, test, triggered, audit, suspect, scanReport);
        DetectionBenchmark.Settings settings = new DetectionBenchmark.Settings(target, limit, frr, baselines, variants);
        DetectionBenchmark.Result r;
        ProgressBar stages = new ProgressBar();
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = model.load(root)) {
            r = DetectionBenchmark.run(m, files, settings, root, StageProgress::new, new DetectionBenchmark.Listener() {
                @Override
                public void started(String model, DetectionBenchmark.Sizes sizes, int target, double frr) {
                    System.out.print(DetectionReport.header(model, sizes, target, frr));
                }

                @Override
                public void method(DetectionBenchmark.Method row) {
                    System.out.print(DetectionReport.line(row));
                }

                @Override
                public void stage(String message) {
                    stages.stage(message);
                }
            });
        }
        System.out.print(DetectionReport.footer(r));
        if (json != null) {
            dev.headguard.AtomicFiles.write(json, new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter()
                    .writeValueAsBytes(DetectionReport.json(r)));
        }
        return 0;
    }
}
