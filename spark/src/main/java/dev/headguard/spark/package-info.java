/**
 * HeadGuard on Apache Spark: the corpus audit ({@link dev.headguard.spark.CorpusAudit}: scan inputs'
 * filter, calibrated on the driver, over a table of any size) and the zoo scan
 * ({@link dev.headguard.spark.ZooScan}: scan model, one model per task). What an executor JVM holds
 * (each model once, one lock for model passes) is {@link dev.headguard.spark.ExecutorModels}.
 */
package dev.headguard.spark;
