package dev.headguard.text;

import dev.headguard.HeadGuardException;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the sentences a command works on: plain files with one sentence per line, or the
 * {@code sentence} column of a TSV with a header (the layout of the benchmark data). Blank
 * lines and over-long lines are errors that name the line, never silently dropped.
 */
public final class SentenceFile {
    /** A longer line is almost surely not a sentence (a binary file, a missing newline). */
    public static final int MAX_CHARS = 100_000;

    private SentenceFile() {}

    /** One sentence per line. */
    public static List<String> readLines(Path file) {
        return sentenceLines(file, lines(file));
    }

    static List<String> sentenceLines(Path file, List<String> lines) {
        if (lines.isEmpty()) {
            throw new HeadGuardException(file + ": no sentences (the file is empty)");
        }
        for (int i = 0; i < lines.size(); i++) {
            check(file, i + 1, lines.get(i));
        }
        return lines;
    }

    /** The named column of a tab-separated file whose first line is a header. */
    public static List<String> readTsvColumn(Path file, String column) {
        return tsvColumn(file, lines(file), column);
    }

    /**
     * The untriggered twin of each row of a triggered TSV (its 'clean' column), or null when the file has
     * no such column or it does not give one per row: the label-flip rate is then not computed.
     */
    public static List<String> twinsOf(Path triggered, int rows) {
        try {
            List<String> twins = readTsvColumn(triggered, "clean");
            return twins.size() == rows ? twins : null;
        } catch (HeadGuardException noTwins) {
            return null;
        }
    }

    static List<String> tsvColumn(Path file, List<String> lines, String column) {
        if (lines.isEmpty()) {
            throw new HeadGuardException(file + ": empty file (expected a header line with a '" + column + "' column)");
        }
        String[] header = lines.get(0).split("\t", -1);
        int col = java.util.Arrays.asList(header).indexOf(column);
        if (col < 0) {
            throw new HeadGuardException(file + ": no '" + column + "' column in the header (found: " + String.join(", ", header) + ")");
        }
        List<String> out = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).split("\t", -1);
            if (f.length != header.length) {
                throw new HeadGuardException(file + ": line " + (i + 1) + " has " + f.length + " fields, the header has " + header.length);
            }
            check(file, i + 1, f[col]);
            out.add(f[col]);
        }
        if (out.isEmpty()) {
            throw new HeadGuardException(file + ": no rows after the header");
        }
        return out;
    }

    /** A TSV (by its .tsv name or a tab in its first line, with a 'sentence' column) or one sentence per line. */
    public static List<String> readSentences(Path file) {
        List<String> lines = lines(file); // read once: the file may be a pipe (--input <(...), /dev/stdin)
        if (file.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".tsv") || !lines.isEmpty() && lines.get(0).contains("\t")) {
            return tsvColumn(file, lines, "sentence");
        }
        return sentenceLines(file, lines);
    }

    private static void check(Path file, int line, String s) {
        if (s.isBlank()) {
            throw new HeadGuardException(file + ": line " + line + " is blank");
        }
        if (s.length() > MAX_CHARS) {
            throw new HeadGuardException(file + ": line " + line + " has " + s.length() + " characters (more than " + MAX_CHARS + ")");
        }
    }

    /** Stands for a line over the length limit, when the caller skips bad rows instead of failing. */
    static final String OVERLONG = "\u0000overlong";

    /** Every line of a strict UTF-8 file; errors name the file. Shared with {@link DatasetReader}. */
    static List<String> lines(Path file) {
        return lines(file, false);
    }

    /** As {@link #lines(Path)}; with {@code markOverlong}, a line over the limit becomes {@link #OVERLONG} instead of an error. */
    static List<String> lines(Path file, boolean markOverlong) {
        try (BufferedReader r = new BufferedReader(new java.io.InputStreamReader(Files.newInputStream(file),
                StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)))) {
            List<String> out = new ArrayList<>();
            for (String s = r.readLine(); s != null; s = r.readLine()) {
                if (out.isEmpty() && s.startsWith("\uFEFF")) {
                    s = s.substring(1); // a UTF-8 byte-order mark, as spreadsheet programs write, is not part of the first column's name
                }
                if (s.length() > MAX_CHARS * 10L && markOverlong) {
                    s = OVERLONG;
                } else if (s.length() > MAX_CHARS * 10L) {
                    throw new HeadGuardException(file + ": line " + (out.size() + 1) + " is over " + MAX_CHARS * 10 + " characters");
                }
                out.add(s);
            }
            return out;
        } catch (NoSuchFileException e) {
            throw new HeadGuardException(file + ": file not found");
        } catch (CharacterCodingException e) {
            throw new HeadGuardException(file + ": not UTF-8 text");
        } catch (IOException e) {
            throw new HeadGuardException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }
}
