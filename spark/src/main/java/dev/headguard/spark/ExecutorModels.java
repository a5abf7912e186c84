package dev.headguard.spark;

import ai.djl.ndarray.NDManager;
import dev.headguard.Sha256;
import dev.headguard.detect.CalibratedFilter;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkEnv;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What one executor JVM holds for the jobs: each audited model loaded once (not per task or row),
 * with its filter, and one lock that model passes take turns on. PyTorch's intra-op pool is one
 * per process, sized to the executor's cores; two tasks running passes at once would each ask it
 * for every core and oversubscribe the CPU, so a pass holds the lock and uses all of them.
 */
final class ExecutorModels {
    private ExecutorModels() {}

    /** A model, the filter calibrated on the driver, and the native memory they live in (kept for the JVM's life). */
    record Audit(ModelStore.LoadedModel model, CalibratedFilter filter, NDManager root) {}

    private static final Map<String, Audit> AUDITS = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();

    /** Model passes in this JVM take turns on it (see the class comment). */
    static final ReentrantLock PASSES = new ReentrantLock(true);

    /** The audit for this model and filter, loaded on first use in this JVM. */
    static Audit audit(String modelDir, int maxLength, byte[] filter) {
        String key = modelDir + "\u0000" + maxLength + "\u0000" + Sha256.hex(filter);
        return AUDITS.computeIfAbsent(key, k -> {
            sizeThreads();
            NDManager root = TorchRuntime.newManager();
            try {
                ModelStore.LoadedModel m = ModelStore.load(Path.of(modelDir), root, maxLength);
                LOADS.incrementAndGet();
                return new Audit(m, CalibratedFilter.fromBytes(filter, m, root), root);
            } catch (RuntimeException e) {
                root.close();
                throw e;
            }
        });
    }

    /** How many models this JVM loaded for audits (once per model and filter). */
    static int loads() {
        return LOADS.get();
    }

    /**
     * Sizes PyTorch's intra-op pool to this executor's cores, before the engine starts (it reads the
     * setting once): {@code spark.executor.cores}, or N of a {@code local[N]} master; an explicit
     * {@code -Dheadguard.threads} wins.
     */
    static synchronized void sizeThreads() {
        if (System.getProperty("headguard.threads") != null) {
            return;
        }
        SparkEnv env = SparkEnv.get();
        if (env != null) {
            System.setProperty("headguard.threads", String.valueOf(executorCores(env.conf())));
        }
    }

    static int executorCores(SparkConf conf) {
        int machine = Runtime.getRuntime().availableProcessors();
        String master = conf.get("spark.master", "");
        java.util.regex.Matcher local = java.util.regex.Pattern.compile("local(?:-cluster)?\\[(\\d+|\\*)(?:,\\s*\\d+)?]").matcher(master);
        if (master.equals("local")) {
            return 1;
        }
        if (master.startsWith("local[") && local.matches()) {
            return local.group(1).equals("*") ? machine : Math.max(1, Math.min(machine, Integer.parseInt(local.group(1))));
        }
        return Math.max(1, conf.getInt("spark.executor.cores", machine));
    }
}
