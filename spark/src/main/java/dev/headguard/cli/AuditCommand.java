package dev.headguard.cli;

import dev.headguard.HeadGuardException;
import dev.headguard.api.HeadGuard;
import dev.headguard.api.InputFilter;
import dev.headguard.spark.CorpusAudit;
import dev.headguard.spark.Tables;
import dev.headguard.spark.Sessions;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code audit}: the per-input filter of {@code scan inputs} over a corpus of any size, on Spark. */
@Command(name = "audit", description = {"Score every row of a corpus (Parquet, CSV, TSV, JSON lines) with the per-input filter of 'scan inputs', on Spark:",
        "calibrated once on the clean file, the model loaded once per executor. Writes index, score, flagged (score above 0) and prediction."})
final class AuditCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Mixin
    SparkOptions spark = new SparkOptions();

    @Mixin
    ScanOptions scoring = new ScanOptions();

    @Option(names = "--no-model-scan", description = "Score with the attention scan alone (by default the model scan's evidence chooses the filter, as in 'scan inputs').")
    boolean noModelScan;

    @Option(names = "--inputs", required = true, paramLabel = "PATH", description = "The corpus: a file or a folder of part files (local or any Hadoop filesystem path).")
    String inputs;

    @Option(names = "--input-format", paramLabel = "FORMAT", description = "parquet, csv, tsv or jsonl (default: by the extension; a folder is parquet).")
    String inputFormat;

    @Option(names = "--text-column", defaultValue = "sentence", paramLabel = "NAME", description = "The column holding the texts (default: ${DEFAULT-VALUE}).")
    String textColumn;

    @Option(names = "--partitions", paramLabel = "N", description = "Repartition the corpus into N parts before scoring (default: as Spark reads it).")
    Integer partitions;

    @Override
    public Integer call() {
        InputFilter.Settings settings = new InputFilter.Settings(scoring.settings(model.config()), scoring.cleanLimit, !noModelScan); // options checked first
        OptionChecks.atLeast("--clean-limit", scoring.cleanLimit, 0);
        if (partitions != null) {
            OptionChecks.atLeast("--partitions", partitions, 1);
        }
        model.checkMaxLength();
        if (model.config().family().decoder && model.config().languageModel()) {
            throw new HeadGuardException(model.directory() + ": audit is not yet for a decoder language model (scan inputs scores its prompts)");
        }
        Path clean = scoring.clean;
        if (!Files.isRegularFile(clean)) {
            throw new HeadGuardException(clean + ": file not found");
        }
        Tables.Format in = inputFormat != null ? Tables.Format.of(inputFormat) : Tables.Format.ofPath(inputs);
        Tables.Format outFormat = spark.outputFormat();
        spark.checkOutLocally();
        if (dev.headguard.spark.ModelFiles.isLocal(inputs) && !inputs.startsWith("file:") && !Files.exists(Path.of(inputs))) {
            throw new HeadGuardException(inputs + ": file not found");
        }
        String dir = model.directory().toString();
        int maxLength = model.maxLength == null ? 0 : model.maxLength;
        long t0 = System.nanoTime();
        boolean running = Sessions.running();
        SparkSession session = Sessions.start(spark.master, "headguard audit");
        try {
            spark.checkOut(session);
            Dataset<Row> corpus = Tables.read(session, inputs, in);
            if (!java.util.Arrays.asList(corpus.columns()).contains(textColumn)) {
                throw new HeadGuardException(inputs + ": no '" + textColumn + "' column (found: " + String.join(", ", corpus.columns()) + "); name it with --text-column");
            }
            System.err.println("headguard: calibrating the filter on " + clean + " (the driver)");
            byte[] filter;
            String kind;
            try (HeadGuard hg = HeadGuard.load(dir, maxLength)) {
                InputFilter f = hg.inputFilter(clean, settings);
                filter = f.calibrated().toBytes();
                kind = f.kind();
            }
            double calibrated = (System.nanoTime() - t0) / 1e9;
            System.err.println("headguard: scoring " + inputs + " with the " + kind + " filter on " + session.sparkContext().master());
            Tables.write(CorpusAudit.score(corpus, textColumn, new CorpusAudit.Job(dir, maxLength, filter, partitions == null ? 0 : partitions)), spark.out, outFormat);
            Row totals = Tables.read(session, spark.out, outFormat)
                    .selectExpr("count(*)", "sum(CASE WHEN CAST(flagged AS STRING) = 'true' THEN 1 ELSE 0 END)").first();
            long rows = totals.getLong(0);
            long flagged = totals.isNullAt(1) ? 0 : totals.getLong(1);
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "%d rows, %d flagged (%.2f%%) by the %s filter at FRR %.3f; %.1f s (calibration %.1f s), %.1f rows/s; written to %s%n",
                    rows, flagged, rows == 0 ? 0 : 100.0 * flagged / rows, kind, scoring.frr, seconds, calibrated, rows / Math.max(seconds - calibrated, 1e-9), spark.out);
            return 0;
        } finally {
            if (!running) {
                session.stop();
            }
        }
    }
}
