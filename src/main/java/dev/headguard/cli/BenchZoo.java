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
    @picocli.CommandLine.Mixin
    ZooOptions zoo = new ZooOptions();

    @Override
    public Integer call() throws Exception {
        zoo.check();
        var entries = ZooBenchmark.readList(zoo.list);
        System.out.print(ZooReport.header());
        ZooBenchmark.Result r = ZooBenchmark.run(entries, zoo.cleanLimit, row -> System.out.print(ZooReport.line(row)));
        System.out.print(ZooReport.footer(r.totals()));
        if (zoo.json != null) {
            AtomicFiles.write(zoo.json, new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(ZooReport.json(r)) + "\n");
        }
        return 0;
    }
}
