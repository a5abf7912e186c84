package dev.headguard.spark;

import dev.headguard.HeadGuardException;
import dev.headguard.detect.CalibratedFilter;
import dev.headguard.detect.attention.Probe;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * The corpus audit on Spark: every row of a text column scored by HeadGuard's per-input filter,
 * the one {@code scan inputs} uses, calibrated once on the driver ({@link dev.headguard.api.InputFilter})
 * and shipped to the executors as bytes. Each executor loads the model once ({@link ExecutorModels})
 * and scores its partitions in chunks of rows, each chunk one pass in batches of one token length,
 * so that a row scores as it does in {@code scan inputs} (to about 1e-5) whatever partition it falls in.
 */
public final class CorpusAudit {
    private CorpusAudit() {}

    /** The table written: the input's 0-based row, its score (flagged above 0), whether flagged, the model's prediction. */
    public static final StructType SCHEMA = new StructType()
            .add("index", DataTypes.LongType, false)
            .add("score", DataTypes.DoubleType, true)
            .add("flagged", DataTypes.BooleanType, true)
            .add("prediction", DataTypes.IntegerType, true);

    /** Rows per model pass in a task: enough for full batches of one token length, few enough to keep a task's memory to tens of MB. */
    public static final int CHUNK = 4096;

    /**
     * What every executor needs: the model directory (a local path every executor can read, or any
     * Hadoop filesystem path), the longest input in tokens (0: the model's limit, at most 512), the
     * calibrated filter's bytes ({@link dev.headguard.detect.CalibratedFilter#toBytes}), the rows per
     * pass, and the partitions to score in (0: as Spark read the input; the rows are numbered first).
     */
    public record Job(String model, int maxLength, byte[] filter, int chunk, int partitions) {
        public Job {
            if (chunk < 1 || partitions < 0) {
                throw new IllegalArgumentException("chunk must be at least 1 and partitions at least 0, got " + chunk + " and " + partitions);
            }
        }

        /** Rows per pass {@link #CHUNK}, the partitions as Spark reads the input. */
        public Job(String model, int maxLength, byte[] filter) {
            this(model, maxLength, filter, CHUNK, 0);
        }
    }

    /** The job as tasks receive it: the filter (a few MB) broadcast once per executor, not shipped in every task. */
    private record Shipped(String model, int maxLength, Broadcast<byte[]> filter, int chunk) implements Serializable {}

    /**
     * Scores {@code textColumn} of {@code inputs}: one row per input in {@link #SCHEMA}, its index the
     * position in {@code inputs} (for one input file, its row order). A null text gets null score,
     * flagged and prediction.
     */
    public static Dataset<Row> score(Dataset<Row> inputs, String textColumn, Job job) {
        return score(inputs, textColumn, job, -1);
    }

    /** The same; the first attempt of the task scoring {@code failPartition} fails (≥ 0; tests of Spark's retry). */
    static Dataset<Row> score(Dataset<Row> inputs, String textColumn, Job job, int failPartition) {
        if (!Arrays.asList(inputs.columns()).contains(textColumn)) {
            throw new HeadGuardException("no '" + textColumn + "' column in the inputs (found: " + String.join(", ", inputs.columns()) + ")");
        }
        org.apache.spark.api.java.JavaPairRDD<Row, Long> indexed = inputs.select(textColumn).javaRDD().zipWithIndex();
        if (job.partitions() > 0) {
            indexed = indexed.repartition(job.partitions());
        }
        Broadcast<byte[]> filter = JavaSparkContext.fromSparkContext(inputs.sparkSession().sparkContext()).broadcast(job.filter());
        JavaRDD<Row> scored = indexed.mapPartitions(new PartitionScorer(new Shipped(job.model(), job.maxLength(), filter, job.chunk()), failPartition));
        return inputs.sparkSession().createDataFrame(scored, SCHEMA);
    }

    /** Scores one partition, a chunk of rows per model pass, on the model this JVM loaded once. */
    static final class PartitionScorer implements FlatMapFunction<Iterator<Tuple2<Row, Long>>, Row> {
        private static final long serialVersionUID = 1L;
        private final Shipped job;
        private final int failPartition;

        PartitionScorer(Shipped job, int failPartition) {
            this.job = job;
            this.failPartition = failPartition;
        }

        @Override
        public Iterator<Row> call(Iterator<Tuple2<Row, Long>> rows) {
            TaskContext task = TaskContext.get();
            if (task != null && task.partitionId() == failPartition && task.attemptNumber() == 0) {
                throw new IllegalStateException("a failure forced on the first attempt of partition " + failPartition);
            }
            return new Iterator<>() {
                private Iterator<Row> chunk = java.util.Collections.emptyIterator();

                @Override
                public boolean hasNext() {
                    while (!chunk.hasNext() && rows.hasNext()) {
                        chunk = scoreChunk(rows).iterator();
                    }
                    return chunk.hasNext();
                }

                @Override
                public Row next() {
                    if (!hasNext()) {
                        throw new java.util.NoSuchElementException();
                    }
                    return chunk.next();
                }
            };
        }

        private List<Row> scoreChunk(Iterator<Tuple2<Row, Long>> rows) {
            List<Long> index = new ArrayList<>();
            List<String> texts = new ArrayList<>();
            while (rows.hasNext() && index.size() < job.chunk()) {
                Tuple2<Row, Long> r = rows.next();
                index.add(r._2());
                texts.add(r._1().isNullAt(0) ? null : r._1().get(0).toString());
            }
            List<String> present = texts.stream().filter(t -> t != null).toList();
            CalibratedFilter.Scored s;
            ExecutorModels.Audit audit = ExecutorModels.audit(ModelFiles.local(job.model()).toString(), job.maxLength(), job.filter().value());
            ExecutorModels.PASSES.lock();
            try {
                s = audit.filter().score(present, audit.root(), Probe.Progress.NONE);
            } finally {
                ExecutorModels.PASSES.unlock();
            }
            List<Row> out = new ArrayList<>(index.size());
            int k = 0;
            for (int i = 0; i < index.size(); i++) {
                if (texts.get(i) == null) {
                    out.add(RowFactory.create(index.get(i), null, null, null));
                } else {
                    double v = s.scores()[k];
                    out.add(RowFactory.create(index.get(i), v, v > 0, s.predictions()[k]));
                    k++;
                }
            }
            return out;
        }
    }
}
