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

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code audit-zoo}: {@code bench zoo}'s model scans on Spark, one model per task. */
@Command(name = "audit-zoo", description = {"Run 'scan model' over many models on Spark, one model per task, and write the verdict table",
        "(model, backdoor, score, top candidates, seconds, and the manifest's truth); the verdicts' AUROC when the manifests say which are backdoored."})
final class AuditZooCommand implements Callable<Integer> {
    @Mixin
    SparkOptions spark = new SparkOptions();

    @Mixin
    ZooOptions zoo = new ZooOptions();

    @Override
    public Integer call() throws Exception {
        zoo.check();
        Tables.Format format = spark.outputFormat();
        spark.checkOutLocally();
        List<ZooScan.Task> entries = ZooScan.readList(zoo.list);
        for (ZooScan.Task e : entries) { // a local path that is not there fails here, not in a task an hour later
            if (e.localModel() && !java.nio.file.Files.isRegularFile(dev.headguard.spark.ModelFiles.local(e.model()).resolve("config.json"))) {
                throw new HeadGuardException(zoo.list + ": " + e.model() + ": no config.json (not a model folder)");
            }
            for (String f : e.suspects() == null ? List.of(e.clean()) : List.of(e.clean(), e.suspects())) {
                if (!java.nio.file.Files.isRegularFile(Path.of(f))) {
                    throw new HeadGuardException(zoo.list + ": " + f + ": file not found");
                }
            }
        }
        boolean running = Sessions.running();
        SparkSession session = Sessions.start(spark.master, "headguard audit-zoo");
        try {
            spark.checkOut(session);
            ZooScan.Result r = ZooScan.run(session, entries, zoo.cleanLimit);
            System.out.print(ZooReport.header());
            r.verdicts().forEach(v -> System.out.print(v.line()));
            System.out.print(ZooReport.footer(r.totals()));
            Tables.write(r.table(session).coalesce(1), spark.out, format);
            if (zoo.json != null) {
                AtomicFiles.write(zoo.json, new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(r.json()) + "\n");
            }
            return 0;
        } finally {
            if (!running) {
                session.stop();
            }
        }
    }
}
