package dev.headguard.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.HeadGuardException;
import dev.headguard.bench.ZooBenchmark;
import dev.headguard.bench.ZooReport;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The zoo scan on Spark: {@code scan model} over a list of model directories, one model per task,
 * each the scan {@code bench zoo} runs ({@link ZooBenchmark#scan}), with the verdict table and its
 * totals (the verdicts' AUROC when the models' manifests say which are backdoored) made on the driver.
 */
public final class ZooScan {
    private ZooScan() {}

    /** The verdict table: the model, its verdict and score, its top candidates, the scan's seconds, and the manifest's truth. */
    public static final StructType SCHEMA = new StructType()
            .add("model", DataTypes.StringType, false)
            .add("backdoor", DataTypes.BooleanType, false)
            .add("score", DataTypes.DoubleType, false)
            .add("top_candidates", DataTypes.createArrayType(DataTypes.StringType), false)
            .add("seconds", DataTypes.DoubleType, false)
            .add("truth", DataTypes.StringType, false)
            .add("trigger", DataTypes.StringType, false)
            .add("score_with_population", DataTypes.DoubleType, true);

    /**
     * One model's result as a task sends it back: the table's row, what the totals need, the entry of
     * {@code bench zoo}'s JSON and its table line.
     */
    public record Verdict(Row row, ZooBenchmark.Outcome outcome, String json, String line) implements Serializable {}

    /** Every model's verdict, in the list's order, and the totals over them. */
    public record Result(List<Verdict> verdicts, ZooBenchmark.Totals totals) {
        public Dataset<Row> table(SparkSession spark) {
            return spark.createDataFrame(verdicts.stream().map(Verdict::row).toList(), SCHEMA);
        }

        /** The JSON {@code bench zoo --json} writes. */
        public ObjectNode json() {
            ObjectMapper om = new ObjectMapper();
            List<ObjectNode> entries = new ArrayList<>();
            for (Verdict v : verdicts) {
                try {
                    entries.add((ObjectNode) om.readTree(v.json()));
                } catch (java.io.IOException e) {
                    throw new IllegalStateException(e);
                }
            }
            return ZooReport.json(entries, totals);
        }
    }

    /**
     * A zoo list's entry: the model directory as written (a local path or any Hadoop filesystem path),
     * the clean file and optionally the training set (local to where the tasks run).
     */
    public record Task(String model, String clean, String suspects) implements Serializable {
        /** Whether the model is on this machine's filesystem (then it is checked before any work). */
        public boolean localModel() {
            return ModelFiles.isLocal(model);
        }
    }

    /** bench zoo's list ({@link ZooBenchmark#listFields}), the model paths kept as written. */
    public static List<Task> readList(Path list) {
        return ZooBenchmark.listFields(list).stream().map(f -> new Task(f[0], f[1], f.length > 2 ? f[2] : null)).toList();
    }

    public static Result run(SparkSession spark, List<Task> tasks, int cleanLimit) {
        if (tasks.isEmpty()) {
            throw new HeadGuardException("the zoo list names no models");
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<Verdict> verdicts = jsc.parallelize(tasks, tasks.size()).map(t -> scan(t, cleanLimit)).collect();
        return new Result(List.copyOf(verdicts), ZooBenchmark.totals(verdicts.stream().map(Verdict::outcome).toList()));
    }

    private static Verdict scan(Task t, int cleanLimit) {
        Path model = ModelFiles.local(t.model());
        ZooBenchmark.ModelRow row;
        ExecutorModels.sizeThreads();
        ExecutorModels.PASSES.lock(); // one scan at a time per executor, on all its cores
        try {
            row = ZooBenchmark.scan(new ZooBenchmark.Entry(model, Path.of(t.clean()), t.suspects() == null ? null : Path.of(t.suspects())), cleanLimit);
        } finally {
            ExecutorModels.PASSES.unlock();
        }
        ObjectNode entry = ZooReport.json(new ObjectMapper(), row);
        entry.put("model", t.model()); // the name in the list, not the local copy
        ZooBenchmark.Outcome o = ZooBenchmark.Outcome.of(row);
        Row r = RowFactory.create(t.model(), row.backdoor(), row.score(), row.top5().toArray(String[]::new), row.seconds(), row.truth().name(),
                row.truth().trigger(), o.populationScore());
        return new Verdict(r, o, entry.toString(), ZooReport.line(row));
    }
}
