package dev.headguard.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headguard.AtomicFiles;
import dev.headguard.HeadGuardException;
import dev.headguard.bench.ZooReport;
import dev.headguard.spark.Tables;
import dev.headguard.spark.Sessions;
import dev.headguard.spark.ZooScan;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code audit-zoo}: {@code bench zoo}'s model scans on Spark, one model per task. */
@Command(name = "audit-zoo", description = {"Run 'scan model' over many models on Spark, one model per task, and write the verdict table",
        "(model, backdoor, score, top candidates, seconds, and the manifest's truth); the verdicts' AUROC when the manifests say which are backdoored."})
final class AuditZooCommand implements Callable<Integer> {
    @Mixin
    SparkOptions spark = new SparkOptions();

    @Option(names = "--list", required = true, paramLabel = "FILE", description = {"TSV without header, as for 'bench zoo': model directory (any Hadoop filesystem path),",
            "clean set file, and optionally the model's training set (suspects); the files must be readable where the tasks run."})
    Path list;

    @Option(names = "--clean-limit", defaultValue = "200", description = "Clean texts per scan, a seeded sample (default: ${DEFAULT-VALUE}).")
    int cleanLimit;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as 'bench zoo --json' does.")
    Path json;

    @Override
    public Integer call() throws Exception {
        OptionChecks.atLeast("--clean-limit", cleanLimit, 0);
        if (json != null) {
            AtomicFiles.checkFile(json, "--json");
        }
        Tables.Format format = spark.outputFormat();
        spark.checkOutLocally();
        List<ZooScan.Task> entries = ZooScan.readList(list);
        for (ZooScan.Task e : entries) { // a local path that is not there fails here, not in a task an hour later
            if (e.localModel() && !java.nio.file.Files.isRegularFile(Path.of(e.model()).resolve("config.json"))) {
                throw new HeadGuardException(list + ": " + e.model() + ": no config.json (not a model folder)");
            }
            for (String f : e.suspects() == null ? List.of(e.clean()) : List.of(e.clean(), e.suspects())) {
                if (!java.nio.file.Files.isRegularFile(Path.of(f))) {
                    throw new HeadGuardException(list + ": " + f + ": file not found");
                }
            }
        }
        boolean running = Sessions.running();
        SparkSession session = Sessions.start(spark.master, "headguard audit-zoo");
        try {
            spark.checkOut(session);
            ZooScan.Result r = ZooScan.run(session, entries, cleanLimit);
            System.out.print(ZooReport.header());
            r.verdicts().forEach(v -> System.out.print(v.line()));
            System.out.print(ZooReport.footer(r.totals()));
            Tables.write(r.table(session).coalesce(1), spark.out, format);
            if (json != null) {
                AtomicFiles.write(json, new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(r.json()) + "\n");
            }
            return 0;
        } finally {
            if (!running) {
                session.stop();
            }
        }
    }
}
