package dev.headguard.cli;

import dev.headguard.HeadGuardException;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Option;

/** Options both Spark commands share: the master and the output folder. */
final class SparkOptions {
    @Option(names = "--spark", paramLabel = "MASTER", description = {"Spark master URL, e.g. local[2] (one machine, two cores), spark://host:7077, yarn",
            "(default: the one spark-submit set, else local[*])."})
    String master;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "A new folder (local or any Hadoop filesystem path) for Spark's part files.")
    String out;

    @Option(names = "--format", defaultValue = "parquet", paramLabel = "FORMAT", description = "Output format: parquet, csv, tsv or jsonl (default: ${DEFAULT-VALUE}).")
    String format;

    dev.headguard.spark.Tables.Format outputFormat() {
        return dev.headguard.spark.Tables.Format.of(format);
    }

    /** A local --out that exists is refused before any work (Spark would refuse it only after the job). */
    void checkOutLocally() {
        if (out.isBlank()) {
            throw new HeadGuardException("--out: an empty path");
        }
        if (dev.headguard.spark.ModelFiles.isLocal(out) && !out.startsWith("file:")) {
            java.nio.file.Path p = java.nio.file.Path.of(out);
            if (java.nio.file.Files.exists(p)) {
                throw new HeadGuardException("--out " + out + ": exists; the job writes a new folder");
            }
            java.nio.file.Path parent = p.toAbsolutePath().getParent();
            if (parent != null && java.nio.file.Files.exists(parent) && !java.nio.file.Files.isDirectory(parent)) {
                throw new HeadGuardException("--out " + out + ": " + parent + " is not a folder");
            }
        }
    }

    /** The same for any filesystem, once Spark's Hadoop configuration is at hand. */
    void checkOut(SparkSession spark) {
        try {
            org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(out);
            if (p.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(p)) {
                throw new HeadGuardException("--out " + out + ": exists; the job writes a new folder");
            }
        } catch (java.io.IOException e) {
            throw new HeadGuardException("--out " + out + ": cannot be checked (" + e.getMessage() + ")");
        }
    }
}
