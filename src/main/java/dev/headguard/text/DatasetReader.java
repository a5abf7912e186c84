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
     * @param classes     a model's class names by id, when the data is read for that model: a label is one of
     *                    the names or an id below their count, anything else a bad row; empty: no model
     */
    public record Options(Format format, String textColumn, String labelColumn, boolean header, List<String> labels, OnBadRow onBadRow,
                          List<String> classes) {
        public Options {
            labels = List.copyOf(labels);
            classes = List.copyOf(classes);
        }

        public Options(Format format, String textColumn, String labelColumn, boolean header, List<String> labels, OnBadRow onBadRow) {
            this(format, textColumn, labelColumn, header, labels, onBadRow, List.of());
        }

        /** Labels read as this model's classes (its id2label), unless --labels declared names. */
        public Options forModel(List<String> modelClasses) {
            return new Options(format, textColumn, labelColumn, header, labels, onBadRow, modelClasses);
        }

        /** The benchmark layout: TSV, header, 'sentence' and 'label'. */
        public static Options defaults() {
            return new Options(null, "sentence", "label", true, List.of(), OnBadRow.FAIL);
        }

        public Options withLabels(List<String> names) {
            return new Options(format, textColumn, labelColumn, header, names, onBadRow, classes);
        }

        public Options withOnBadRow(OnBadRow policy) {
            return new Options(format, textColumn, labelColumn, header, labels, policy, classes);
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
        List<String> named = !o.labels().isEmpty() ? o.labels() : o.classes();
        for (int i = 0; i < named.size(); i++) {
            ids.put(named.get(i), i);
        }
        boolean declared = !ids.isEmpty();
        boolean forModel = o.labels().isEmpty() && !o.classes().isEmpty();
        long integerRows = rows.stream().filter(r -> r.label != null && isInteger(r.label)).count();
        long nameRows = rows.stream().filter(r -> r.label != null && !isInteger(r.label)).count();
        // Mixed kinds (0/1 with one 'positive') are a typo, not a third class: the majority kind decides.
        boolean integers = !declared && integerRows > 0 && integerRows >= nameRows;
        List<Example> out = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        int maxInt = -1;
        for (Row r : rows) {
            String problem = null;
            int label = -1;
            if (r.problem != null) {
                problem = r.problem;
            } else if (r.text == null || r.label == null) {
                problem = "missing " + (r.text == null ? "text column '" + o.textColumn() + "'" : "label column '" + o.labelColumn() + "'");
            } else if (r.text.isBlank()) {
                problem = "blank text";
            } else if (r.text.length() > SentenceFile.MAX_CHARS) {
                problem = "text of " + r.text.length() + " characters (more than " + SentenceFile.MAX_CHARS + ")";
            } else if (!declared && integerRows > 0 && nameRows > 0 && integers != isInteger(r.label)) {
                problem = "label '" + r.label.strip() + "' is " + (integers ? "a name where the file's other labels are integers"
                        : "an integer where the file's other labels are names") + " (declare the classes with --labels)";
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
                if (id == null && forModel && isInteger(name) && Long.parseLong(name) >= 0 && Long.parseLong(name) < named.size()) {
                    id = Integer.parseInt(name); // an id of the model's classes, as eval files usually give them
                }
                if (id == null && !declared) {
                    id = ids.size();
                    ids.put(name, id);
                }
                if (id == null) {
                    problem = forModel ? "label '" + name + "' is not a class of the model (" + describe(named) + ")"
                            : "unknown label '" + name + "' (declared: " + String.join(", ", o.labels()) + ")";
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

    private static boolean isInteger(String label) {
        return label.strip().matches("-?\\d{1,9}");
    }

    /** "0 'negative', 1 'positive'": a model's classes, the first few. */
    private static String describe(List<String> classes) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < Math.min(6, classes.size()); i++) {
            parts.add(i + " '" + classes.get(i) + "'");
        }
        return "its classes: " + String.join(", ", parts) + (classes.size() > 6 ? ", ..." : "");
    }

    /**
     * For a training set, whose labels make the model's classes: integer labels name classes 0..K-1, and a
     * class with no row means a typo (one '7' among 0/1 labels would make an 8-class model with six empty
     * classes), so it is refused. A test set may lack classes; this is for data that defines them.
     */
    public static void requireEveryClass(Path file, Dataset d) {
        int[] count = new int[d.numLabels()];
        for (int y : d.labels()) {
            count[y]++;
        }
        int last = count.length - 1;
        for (int c = 0; c < last; c++) {
            if (count[c] == 0) {
                throw new HeadGuardException(file + ": label " + d.labelNames().get(c) + " has no rows while label " + d.labelNames().get(last) + " has "
                        + count[last] + ": a typo? Integer labels must be the classes 0.." + last + " with every class present (or declare them with --labels)");
            }
        }
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

    /** A data row; {@code problem} is set when the line itself was unreadable (a broken JSON line, stray columns). */
    private record Row(int line, String text, String label, String problem) {
        Row(int line, String text, String label) {
            this(line, text, label, null);
        }

        static Row bad(int line, String problem) {
            return new Row(line, null, null, problem);
        }
    }

    private static List<Row> jsonRows(Path file, Options o) {
        ObjectMapper om = new ObjectMapper();
        List<Row> rows = new ArrayList<>();
        int n = 0;
        for (String line : lines(file, o)) {
            n++;
            if (line.equals(SentenceFile.OVERLONG)) {
                rows.add(Row.bad(n, OVERLONG_PROBLEM));
                continue;
            }
            if (line.isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = om.readTree(line);
            } catch (IOException e) {
                node = null;
            }
            if (node == null || !node.isObject()) {
                rows.add(Row.bad(n, "not a JSON object"));
                continue;
            }
            JsonNode t = node.get(o.textColumn());
            JsonNode l = node.get(o.labelColumn());
            rows.add(new Row(n, t == null || t.isNull() ? null : t.asText(), l == null || l.isNull() ? null : l.asText()));
        }
        return rows;
    }

    private static List<Row> delimitedRows(Path file, char sep, Options o) {
        String content = String.join("\n", lines(file, o));
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
            if (r.size() == 1 && r.get(0).equals(SentenceFile.OVERLONG)) {
                rows.add(Row.bad(lineOf.get(i), OVERLONG_PROBLEM));
                continue;
            }
            if (o.header() && r.size() > records.get(0).size()) { // a separator inside a text shifts the columns after it
                rows.add(Row.bad(lineOf.get(i), r.size() + " fields where the header has " + records.get(0).size()));
                continue;
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

    private static final String OVERLONG_PROBLEM = "line over " + SentenceFile.MAX_CHARS * 10 + " characters";

    private static List<String> lines(Path file, Options o) {
        List<String> out = SentenceFile.lines(file, o.onBadRow() == OnBadRow.SKIP);
        if (out.stream().allMatch(String::isEmpty)) {
            throw new HeadGuardException(file + ": empty file");
        }
        return out;
    }
}
