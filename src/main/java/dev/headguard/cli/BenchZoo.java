package dev.headguard.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headguard.AtomicFiles;
import dev.headguard.bench.ZooBenchmark;
import dev.headguard.bench.ZooReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** The shell of {@link ZooBenchmark}: its table as it goes, and its JSON. */
@Command(name = "zoo", description = "Run 'scan model' over many models and score the verdicts against their manifests (AUROC, trigger found in the top 5; for decoders, the target phrase elicited).")
final class BenchZoo implements Callable<Integer> {
    @Option(names = "--list", required = true, paramLabel = "FILE", description = {"TSV without header: model directory, clean set file, and optionally the model's training set",
            "(unlabelled suspects for the population scan: a second verdict score, the larger of the two)."})
    Path list;

    @Option(names = "--clean-limit", defaultValue = "200", description = "Clean texts per scan, a seeded sample (default: ${DEFAULT-VALUE}).")
    int cleanLimit;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.")
    Path json;

    @Override
    public Integer call() throws Exception {
        OptionChecks.atLeast("--clean-limit", cleanLimit, 0);
        if (json != null) {
            AtomicFiles.checkFile(json, "--json");
        }
        var entries = ZooBenchmark.readList(list);
        System.out.print(ZooReport.header());
        ZooBenchmark.Result r = ZooBenchmark.run(entries, cleanLimit, row -> System.out.print(ZooReport.line(row)));
        System.out.print(ZooReport.footer(r));
        if (json != null) {
            AtomicFiles.write(json, new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(ZooReport.json(r)) + "\n");
        }
        return 0;
    }
}
