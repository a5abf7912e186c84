package dev.headguard.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** The Spark session HeadGuard's jobs run in. */
public final class Sessions {
    private Sessions() {}

    /** Whether this JVM already runs a session (a command then joins it, whatever its --spark, and leaves it running). */
    public static boolean running() {
        return SparkSession.getDefaultSession().isDefined() || SparkSession.getActiveSession().isDefined();
    }

    /**
     * A session on {@code master} (null: the one {@code spark-submit} set). Executors get the
     * launcher's OpenMP setting unless the job sets its own: OpenMP threads that spin at a barrier hold
     * the cores a busy neighbour needs (docs/results.md), and an executor is rarely alone on its machine.
     * Without a master from either, {@code local[*]}.
     */
    public static SparkSession start(String master, String app) {
        SparkConf conf = new SparkConf().setAppName(app);
        if (master != null) {
            conf.setMaster(master);
        } else if (!conf.contains("spark.master")) {
            conf.setMaster("local[*]");
        }
        conf.setIfMissing("spark.executorEnv.GOMP_SPINCOUNT", "1000");
        conf.setIfMissing("spark.executorEnv.MALLOC_ARENA_MAX", "2");
        if (conf.get("spark.master").startsWith("local")) {
            conf.setIfMissing("spark.ui.enabled", "false"); // a CLI run on one machine opens no web port
        }
        conf.setIfMissing("spark.ui.showConsoleProgress", "true");
        SparkSession session = SparkSession.builder().config(conf).getOrCreate();
        // In local mode the driver's JVM is the executor: size PyTorch's pool before the driver's calibration starts it.
        ExecutorModels.sizeThreads();
        return session;
    }
}
