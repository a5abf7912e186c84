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
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Iterator;
import java.util.List;

/**
 * The corpus audit on Spark: every row of a text column scored by HeadGuard's per-input filter,
 * the one {@code scan inputs} uses, calibrated once on the driver ({@link dev.headguard.api.InputFilter})
 * and shipped to the executors as bytes. Each executor loads the model once ({@link ExecutorModels}).
 * A task streams its partition into one bucket per token length and scores a bucket whenever it
 * holds a batch, the leftovers at the partition's end: the batches of one token length that
 * {@code scan inputs} runs over the whole file, so a row scores as it does there (to about 1e-5)
 * whatever partition it falls in, in memory of a batch per length.
 */
public final class CorpusAudit {
    private CorpusAudit() {}

    /** The table written: the input's 0-based row, its score (flagged above 0), whether flagged, the model's prediction. */
    public static final StructType SCHEMA = new StructType()
            .add("index", DataTypes.LongType, false)
            .add("score", DataTypes.DoubleType, true)
            .add("flagged", DataTypes.BooleanType, true)
            .add("prediction", DataTypes.IntegerType, true);

    /**
     * What every executor needs: the model directory (a local path every executor can read, or any
     * Hadoop filesystem path), the longest input in tokens (0: the model's limit, at most 512), the
     * calibrated filter's bytes ({@link dev.headguard.detect.CalibratedFilter#toBytes}), and the
     * partitions to score in (0: as Spark read the input; the rows are numbered first).
     */
    public record Job(String model, int maxLength, byte[] filter, int partitions) {
        public Job {
            if (partitions < 0) {
                throw new IllegalArgumentException("partitions must be at least 0, got " + partitions);
            }
        }

        /** The partitions as Spark reads the input. */
        public Job(String model, int maxLength, byte[] filter) {
            this(model, maxLength, filter, 0);
        }
    }

    /** The job as tasks receive it: the filter (a few MB) broadcast once per executor, not shipped in every task. */
    private record Shipped(String model, int maxLength, Broadcast<byte[]> filter) implements Serializable {}

    /**
     * Scores {@code textColumn} of {@code inputs}: one row per input in {@link #SCHEMA}, its index the
     * position in {@code inputs} (for one input file, its row order). A null text gets null score,
     * flagged and prediction. Within a partition the rows come out as their batches are scored.
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
        JavaRDD<Row> scored = indexed.mapPartitions(new PartitionScorer(new Shipped(job.model(), job.maxLength(), filter), failPartition));
        return inputs.sparkSession().createDataFrame(scored, SCHEMA);
    }

    /** Scores one partition on the model this JVM loaded once: a batch per token length at a time. */
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
            ExecutorModels.Audit audit = ExecutorModels.audit(ModelFiles.local(job.model()).toString(), job.maxLength(), job.filter().value());
            int batch = audit.filter().batchSize();
            Map<Integer, Bucket> buckets = new HashMap<>();
            return new Iterator<>() {
                private Iterator<Row> ready = Collections.emptyIterator();
                private boolean flushed;

                @Override
                public boolean hasNext() {
                    while (!ready.hasNext()) {
                        if (rows.hasNext()) {
                            Tuple2<Row, Long> r = rows.next();
                            if (r._1().isNullAt(0)) {
                                ready = List.of(RowFactory.create(r._2(), null, null, null)).iterator();
                                continue;
                            }
                            String text = r._1().get(0).toString();
                            int length = audit.model().tokenizer().idsOf(List.of(text)).get(0).length; // the length the pass will see
                            Bucket b = buckets.computeIfAbsent(length, k -> new Bucket());
                            b.add(r._2(), text);
                            if (b.size() == batch) {
                                ready = score(audit, b).iterator();
                                buckets.remove(length);
                            }
                        } else if (!flushed) {
                            flushed = true;
                            Bucket rest = new Bucket(); // every bucket's leftovers in one pass: it runs them a length at a time
                            buckets.values().forEach(rest::addAll);
                            buckets.clear();
                            ready = score(audit, rest).iterator();
                        } else {
                            return false;
                        }
                    }
                    return true;
                }

                @Override
                public Row next() {
                    if (!hasNext()) {
                        throw new java.util.NoSuchElementException();
                    }
                    return ready.next();
                }
            };
        }

        private static List<Row> score(ExecutorModels.Audit audit, Bucket b) {
            CalibratedFilter.Scored s;
            ExecutorModels.PASSES.lock();
            try {
                s = audit.filter().score(b.texts, audit.root(), Probe.Progress.NONE);
            } finally {
                ExecutorModels.PASSES.unlock();
            }
            List<Row> out = new ArrayList<>(b.size());
            for (int i = 0; i < b.size(); i++) {
                double v = s.scores()[i];
                out.add(RowFactory.create(b.index.get(i), v, v > 0, s.predictions()[i]));
            }
            return out;
        }
    }

    /** Rows waiting for a batch: their indexes and texts. */
    private static final class Bucket {
        final List<Long> index = new ArrayList<>();
        final List<String> texts = new ArrayList<>();

        void add(long i, String text) {
            index.add(i);
            texts.add(text);
        }

        void addAll(Bucket other) {
            index.addAll(other.index);
            texts.addAll(other.texts);
        }

        int size() {
            return index.size();
        }
    }
}
