package dev.headguard.cli;

import dev.headguard.text.Dataset;
import dev.headguard.text.SentenceFile;
import dev.headguard.text.DatasetReader;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;

/** How commands read labelled data files (TSV, CSV, JSONL). */
final class DataOptions {
    @Option(names = "--text-column", defaultValue = "sentence", description = "Text column: a name, or a 0-based index with --no-header (default: ${DEFAULT-VALUE}).")
    String textColumn;

    @Option(names = "--label-column", defaultValue = "label", description = "Label column (default: ${DEFAULT-VALUE}).")
    String labelColumn;

    @Option(names = "--no-header", description = "The files have no header line.")
    boolean noHeader;

    @Option(names = "--format", description = "tsv, csv or jsonl (default: from the file name; else tsv).")
    DatasetReader.Format format;

    @Option(names = "--labels", split = ",", description = "Class names in id order, when labels are names (default: integers 0..K-1, or names in order of appearance).")
    List<String> labels = List.of();

    @Option(names = "--skip-bad-rows", description = "Skip rows with a missing column, blank text or unknown label (counted and reported) instead of failing.")
    boolean skipBadRows;

    /** The benchmark data folder: {@code -Dheadguard.data} (the launcher sets it), else ../shared/data. */
    static Path benchmarkData() {
        return Path.of(System.getProperty("headguard.data", "../shared/data"));
    }

    DatasetReader.Options options() {
        return new DatasetReader.Options(format, textColumn, labelColumn, !noHeader, labels,
                skipBadRows ? DatasetReader.OnBadRow.SKIP : DatasetReader.OnBadRow.FAIL);
    }

    Dataset read(Path file) {
        return read(file, options());
    }

    /**
     * Data for a model that has a classification head: labels are its classes (names from its config.json,
     * or ids below their count), anything else a bad row naming the file and line; --labels overrides.
     */
    Dataset readFor(Path file, Path modelDirectory) {
        return readAs(file, dev.headguard.model.io.ModelStore.readConfig(modelDirectory).labels());
    }

    /** Data whose labels must be these classes (a dev file read with its training set's classes). */
    Dataset readAs(Path file, List<String> classes) {
        return read(file, options().forModel(classes));
    }

    private Dataset read(Path file, DatasetReader.Options o) {
        Dataset d = DatasetReader.read(file, o);
        if (!d.skipped().isEmpty()) {
            System.err.printf("note: %s: skipped %d bad rows (first: %s)%n", file, d.skipped().size(), d.skipped().get(0));
        }
        return d;
    }

    /** The first {@code limit} sentences of a file (0: all). */
    static List<String> sentences(Path data, int limit) {
        List<String> s = SentenceFile.readSentences(data);
        return limit > 0 && limit < s.size() ? s.subList(0, limit) : s;
    }

    /** The bench commands' default sentences: SST-2's clean test set. */
    static Path defaultSentences() {
        return DataOptions.benchmarkData().resolve("sst-2").resolve("clean").resolve("test.tsv");
    }
}
