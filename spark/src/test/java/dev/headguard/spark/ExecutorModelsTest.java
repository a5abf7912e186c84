package dev.headguard.spark;

import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PyTorch's pool is sized to the cores an executor has: those of local[N], or spark.executor.cores. */
class ExecutorModelsTest {
    @Test
    void executorCoresFollowTheMaster() {
        int machine = Runtime.getRuntime().availableProcessors();
        assertEquals(1, ExecutorModels.executorCores(new SparkConf().setMaster("local")));
        assertEquals(Math.min(machine, 2), ExecutorModels.executorCores(new SparkConf().setMaster("local[2]")));
        assertEquals(Math.min(machine, 2), ExecutorModels.executorCores(new SparkConf().setMaster("local[2,3]")), "N threads, 3 tries");
        assertEquals(machine, ExecutorModels.executorCores(new SparkConf().setMaster("local[*]")));
        assertEquals(Math.min(machine, 64), ExecutorModels.executorCores(new SparkConf().setMaster("local[64]")), "never more cores than the machine has");
        assertEquals(4, ExecutorModels.executorCores(new SparkConf().setMaster("spark://host:7077").set("spark.executor.cores", "4")));
    }

    @Test
    void localPathsAreToldFromHadoopOnes() {
        assertTrue(ModelFiles.isLocal("/models/victim"));
        assertTrue(ModelFiles.isLocal("models/a b#1"));
        assertTrue(ModelFiles.isLocal("file:///models/victim"));
        assertTrue(ModelFiles.isLocal("C:\\models\\victim"));
        assertFalse(ModelFiles.isLocal("hdfs://namenode/models/victim"));
        assertFalse(ModelFiles.isLocal("s3a://bucket/models/victim"));
    }
}
