package dev.headguard.spark;

import dev.headguard.HeadGuardException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** The table formats the Spark jobs read and write, in one place. */
public final class Tables {
    private Tables() {}

    /** Table formats; an input's by its extension unless named. */
    public enum Format {
        PARQUET, CSV, TSV, JSONL;

        public static Format of(String name) {
            for (Format f : values()) {
                if (f.name().equalsIgnoreCase(name)) {
                    return f;
                }
            }
            throw new HeadGuardException("unknown format '" + name + "' (known: parquet, csv, tsv, jsonl)");
        }

        /** By extension: .parquet, .csv, .tsv, .jsonl or .json; a folder of part files is parquet. */
        public static Format ofPath(String path) {
            String p = path.toLowerCase(java.util.Locale.ROOT).replaceAll("/+$", "");
            if (p.endsWith(".csv")) {
                return CSV;
            }
            if (p.endsWith(".tsv")) {
                return TSV;
            }
            if (p.endsWith(".jsonl") || p.endsWith(".json")) {
                return JSONL;
            }
            if (p.endsWith(".parquet") || java.nio.file.Files.isDirectory(java.nio.file.Path.of(path))) {
                return PARQUET;
            }
            throw new HeadGuardException(path + ": cannot tell the format from the name (.parquet, .csv, .tsv, .jsonl); name it with --input-format");
        }
    }

    /**
     * Reads a table: Parquet, CSV or TSV with a header line, or JSON lines. A TSV is read as
     * HeadGuard's own reader reads it (tab-separated, no quoting: a quote is part of the text).
     */
    public static Dataset<Row> read(SparkSession spark, String path, Format format) {
        return switch (format) {
            case PARQUET -> spark.read().parquet(path);
            // One row per line, so that a large file splits into many tasks (a quoted line break would not):
            // texts with line breaks belong in Parquet or JSON lines.
            case CSV -> spark.read().option("header", "true").csv(path);
            case TSV -> spark.read().option("header", "true").option("sep", "\t").option("quote", "").option("escape", "").csv(path);
            case JSONL -> spark.read().json(path);
        };
    }

    /** JSON has no infinities (Spark would write the string "-Infinity"): null, as {@code scan inputs --json} writes them. */
    private static Dataset<Row> finiteOrNull(Dataset<Row> t) {
        for (org.apache.spark.sql.types.StructField f : t.schema().fields()) {
            if (f.dataType().equals(org.apache.spark.sql.types.DataTypes.DoubleType)) {
                org.apache.spark.sql.Column c = t.col(f.name());
                t = t.withColumn(f.name(), org.apache.spark.sql.functions.when(c.isNaN().or(c.isin(Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY)), null).otherwise(c));
            }
        }
        return t;
    }

    /** Writes a table through Spark's committer (atomic per task, a retried task written once), refusing an existing folder. */
    public static void write(Dataset<Row> scored, String out, Format format) {
        var w = (format == Format.JSONL ? finiteOrNull(scored) : scored).write().mode(org.apache.spark.sql.SaveMode.ErrorIfExists);
        switch (format) {
            case PARQUET -> w.parquet(out);
            case CSV -> w.option("header", "true").csv(out);
            case TSV -> w.option("header", "true").option("sep", "\t").csv(out);
            case JSONL -> w.option("ignoreNullFields", "false").json(out);
        }
    }
}
