package dev.headguard.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headguard.HeadGuardException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads labelled text from TSV, CSV (RFC 4180 quoting: fields in double quotes may hold the
 * separator, newlines and doubled quotes) or JSONL. Columns are chosen by name (with a header) or
 * by 0-based index (without). Labels are either integers 0..K-1 or names; names map to ids in the
 * order given by {@code labels}, else in order of first appearance. A bad row (missing column, blank text, unknown label) is an error
 * naming the file and line, or, under {@link OnBadRow#SKIP}, counted and listed in
 * {@link Dataset#skipped()}: never silently dropped.
 */
public final class DatasetReader {
    public enum Format { TSV, CSV, JSONL }

    /** FAIL on a bad row; SKIP it (counted); or, for line-aligned parallel files, KEEP_BLANK: keep blank texts as "" so rows stay aligned. */
    public enum OnBadRow { FAIL, SKIP, KEEP_BLANK }

    /**
     * @param format      null: from the file name (.tsv, .csv, .jsonl/.json), else TSV
     * @param textColumn  column name, or a 0-based index as text when there is no header
     * @param labelColumn likewise
     * @param header      whether the first line names the columns (ignored for JSONL)
     * @param labels      declared class names by id; empty: integer labels as they are, or names in order of appearance
     * @param onBadRow    fail on the first bad row, or skip and count
     */
    public record Options(Format format, String textColumn, String labelColumn, boolean header, List<String> labels, OnBadRow onBadRow) {
        public Options {
            labels = List.copyOf(labels);
        }

        /** The benchmark layout: TSV, header, 'sentence' and 'label'. */
        public static Options defaults() {
            return new Options(null, "sentence", "label", true, List.of(), OnBadRow.FAIL);
        }

        public Options withLabels(List<String> names) {
            return new Options(format, textColumn, labelColumn, header, names, onBadRow);
        }

        public Options withOnBadRow(OnBadRow policy) {
            return new Options(format, textColumn, labelColumn, header, labels, policy);
        }
    }

    private DatasetReader() {}

    public static Dataset read(Path file) {
        return read(file, Options.defaults());
    }

    public static Dataset read(Path file, Options o) {
        Format format = o.format() != null ? o.format() : formatOf(file);
        List<Row> rows = format == Format.JSONL ? jsonRows(file, o) : delimitedRows(file, format == Format.TSV ? '\t' : ',', o);
        if (rows.isEmpty()) {
            throw new HeadGuardException(file + ": no data rows");
        }
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (int i = 0; i < o.labels().size(); i++) {
            ids.put(o.labels().get(i), i);
        }
        boolean declared = !ids.isEmpty();
        boolean integers = !declared && rows.stream().allMatch(r -> r.label != null && r.label.strip().matches("-?\\d+"));
        List<Example> out = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        int maxInt = -1;
        for (Row r : rows) {
            String problem = null;
            int label = -1;
            if (r.text == null || r.label == null) {
                problem = "missing " + (r.text == null ? "text column '" + o.textColumn() + "'" : "label column '" + o.labelColumn() + "'");
            } else if (r.text.isBlank()) {
                problem = "blank text";
            } else if (r.text.length() > SentenceFile.MAX_CHARS) {
                problem = "text of " + r.text.length() + " characters (more than " + SentenceFile.MAX_CHARS + ")";
            } else if (integers) {
                try {
                    label = Integer.parseInt(r.label.strip());
                } catch (NumberFormatException e) {
                    label = -1;
                }
                if (label < 0 || label > 10_000) {
                    problem = "label '" + r.label + "' is not a class id 0..10000";
                }
            } else {
                String name = r.label.strip();
                Integer id = ids.get(name);
                if (id == null && !declared) {
                    id = ids.size();
                    ids.put(name, id);
                }
                if (id == null) {
                    problem = "unknown label '" + name + "' (declared: " + String.join(", ", o.labels()) + ")";
                } else {
                    label = id;
                }
            }
            if ("blank text".equals(problem) && o.onBadRow() == OnBadRow.KEEP_BLANK && r.label != null) {
                problem = null;
                label = parseLabelOrFail(file, r, integers, ids, declared, o);
                out.add(new Example("", label));
                maxInt = Math.max(maxInt, label);
                continue;
            }
            if (problem != null) {
                if (o.onBadRow() != OnBadRow.SKIP) {
                    throw new HeadGuardException(file + ": line " + r.line + ": " + problem + " (use --skip-bad-rows to skip such rows)");
                }
                skipped.add("line " + r.line + ": " + problem);
                continue;
            }
            maxInt = Math.max(maxInt, label);
            out.add(new Example(r.text, label));
        }
        if (out.isEmpty()) {
            throw new HeadGuardException(file + ": every row was bad (" + skipped.get(0) + ")");
        }
        List<String> names = new ArrayList<>();
        if (integers) {
            for (int i = 0; i <= maxInt; i++) {
                names.add(String.valueOf(i));
            }
        } else {
            names.addAll(ids.keySet());
        }
        return new Dataset(out, names, skipped);
    }

    /** The label id of a row whose text was blank (labels are still checked). */
    private static int parseLabelOrFail(Path file, Row r, boolean integers, Map<String, Integer> ids, boolean declared, Options o) {
        String v = r.label.strip();
        if (integers) {
            try {
                return Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new HeadGuardException(file + ": line " + r.line + ": label '" + v + "' is not a class id");
            }
        }
        Integer id = ids.get(v);
        if (id == null && !declared) {
            id = ids.size();
            ids.put(v, id);
        }
        if (id == null) {
            throw new HeadGuardException(file + ": line " + r.line + ": unknown label '" + v + "'");
        }
        return id;
    }

    static Format formatOf(Path file) {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (n.endsWith(".csv")) {
            return Format.CSV;
        }
        if (n.endsWith(".jsonl") || n.endsWith(".json") || n.endsWith(".ndjson")) {
            return Format.JSONL;
        }
        return Format.TSV;
    }

    private record Row(int line, String text, String label) {}

    private static List<Row> jsonRows(Path file, Options o) {
        ObjectMapper om = new ObjectMapper();
        List<Row> rows = new ArrayList<>();
        int n = 0;
        for (String line : lines(file)) {
            n++;
            if (line.isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = om.readTree(line);
            } catch (IOException e) {
                throw new HeadGuardException(file + ": line " + n + ": not a JSON object");
            }
            if (node == null || !node.isObject()) {
                throw new HeadGuardException(file + ": line " + n + ": not a JSON object");
            }
            JsonNode t = node.get(o.textColumn());
            JsonNode l = node.get(o.labelColumn());
            rows.add(new Row(n, t == null || t.isNull() ? null : t.asText(), l == null || l.isNull() ? null : l.asText()));
        }
        return rows;
    }

    private static List<Row> delimitedRows(Path file, char sep, Options o) {
        String content = String.join("\n", lines(file));
        List<List<String>> records = new ArrayList<>();
        List<Integer> lineOf = new ArrayList<>();
        parseDelimited(file, content, sep, records, lineOf);
        if (records.isEmpty()) {
            throw new HeadGuardException(file + ": empty file");
        }
        int textIdx;
        int labelIdx;
        int first;
        if (o.header()) {
            List<String> header = records.get(0);
            textIdx = header.indexOf(o.textColumn());
            labelIdx = header.indexOf(o.labelColumn());
            if (textIdx < 0 || labelIdx < 0) {
                throw new HeadGuardException(file + ": no '" + (textIdx < 0 ? o.textColumn() : o.labelColumn()) + "' column in the header (found: "
                        + String.join(", ", header) + ")");
            }
            first = 1;
        } else {
            try {
                textIdx = Integer.parseInt(o.textColumn());
                labelIdx = Integer.parseInt(o.labelColumn());
            } catch (NumberFormatException e) {
                throw new HeadGuardException(file + ": without a header, columns are 0-based indexes, not '" + o.textColumn() + "'/'" + o.labelColumn() + "'");
            }
            first = 0;
        }
        List<Row> rows = new ArrayList<>();
        for (int i = first; i < records.size(); i++) {
            List<String> r = records.get(i);
            if (r.size() == 1 && r.get(0).isEmpty()) {
                continue; // empty line
            }
            rows.add(new Row(lineOf.get(i), textIdx < r.size() ? r.get(textIdx) : null, labelIdx < r.size() ? r.get(labelIdx) : null));
        }
        return rows;
    }

    /** RFC 4180-style parsing; also used for TSV, where quotes are rare but legal. */
    private static void parseDelimited(Path file, String s, char sep, List<List<String>> records, List<Integer> lineOf) {
        List<String> record = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        boolean fieldStart = true;
        int line = 1;
        int recordLine = 1;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < s.length() && s.charAt(i + 1) == '"') {
                        field.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    if (c == '\n') {
                        line++;
                    }
                    field.append(c);
                }
            } else if (c == '"' && fieldStart && sep == ',') {
                quoted = true;
                fieldStart = false;
            } else if (c == sep) {
                record.add(field.toString());
                field.setLength(0);
                fieldStart = true;
            } else if (c == '\n') {
                record.add(field.toString());
                field.setLength(0);
                records.add(record);
                lineOf.add(recordLine);
                record = new ArrayList<>();
                fieldStart = true;
                line++;
                recordLine = line;
            } else if (c != '\r' || i + 1 >= s.length() || s.charAt(i + 1) != '\n') {
                field.append(c);
                fieldStart = false;
            }
        }
        if (quoted) {
            throw new HeadGuardException(file + ": line " + recordLine + ": a quoted field is never closed");
        }
        if (field.length() > 0 || !record.isEmpty()) {
            record.add(field.toString());
            records.add(record);
            lineOf.add(recordLine);
        }
    }

    private static List<String> lines(Path file) {
        List<String> out = SentenceFile.lines(file);
        if (out.stream().allMatch(String::isEmpty)) {
            throw new HeadGuardException(file + ": empty file");
        }
        return out;
    }
}
