package dev.headguard.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.AtomicFiles;
import dev.headguard.HeadGuardException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reads and writes generation data, one owner for the format. JSON lines with {@code prompt} and
 * {@code response} (an optional integer {@code label}), or Alpaca's {@code instruction}, {@code input}
 * and {@code output} (the prompt is the instruction, then the input on its own line when there is
 * one); or a TSV with a header naming {@code prompt} and {@code response} (and {@code label}).
 * Writes JSON lines that {@code pandas.read_json(lines=True)} and {@code datasets} read back.
 */
public final class PromptResponseFile {
    private PromptResponseFile() {}

    public static List<PromptResponse> read(Path file) {
        String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
        List<String> lines = SentenceFile.lines(file);
        return nonEmpty(file, name.endsWith(".tsv") ? tsv(file, lines) : jsonLines(file, lines, true));
    }

    /**
     * The prompts alone, from any file a decoder's command takes (a file of triggered prompts needs no
     * responses): JSON lines (named .jsonl/.json, or whose first line is a JSON object) and a TSV with a
     * 'prompt' column give their prompts; any other TSV its 'sentence' column, any other file its lines.
     * One reader for every command, so that no command reads a JSON line as a prompt's text.
     */
    public static List<String> readPrompts(Path file) {
        String name = file.getFileName() == null ? "" : file.getFileName().toString().toLowerCase(Locale.ROOT);
        List<String> lines = SentenceFile.lines(file); // read once: the file may be a pipe
        String first = lines.stream().filter(l -> !l.isBlank()).findFirst().orElse("").strip();
        if (name.endsWith(".jsonl") || name.endsWith(".json") || first.startsWith("{")) {
            return nonEmpty(file, jsonLines(file, lines, false)).stream().map(PromptResponse::prompt).toList();
        }
        if (name.endsWith(".tsv") || !lines.isEmpty() && lines.get(0).contains("\t")) {
            return List.of(lines.get(0).split("\t")).contains("prompt") ? nonEmpty(file, tsv(file, lines)).stream().map(PromptResponse::prompt).toList()
                    : SentenceFile.tsvColumn(file, lines, "sentence");
        }
        return SentenceFile.sentenceLines(file, lines);
    }

    private static List<PromptResponse> nonEmpty(Path file, List<PromptResponse> rows) {
        if (rows.isEmpty()) {
            throw new HeadGuardException(file + ": no prompt/response rows");
        }
        return rows;
    }

    /** @param needResponse false for prompts alone: a line may then have no response (it reads as "") */
    private static List<PromptResponse> jsonLines(Path file, List<String> lines, boolean needResponse) {
        ObjectMapper om = new ObjectMapper();
        List<PromptResponse> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            JsonNode n;
            try {
                n = om.readTree(line);
            } catch (IOException e) {
                n = null;
            }
            if (n == null || !n.isObject()) {
                throw new HeadGuardException(file + ": line " + (i + 1) + ": not a JSON object (expected prompt/response or instruction/input/output)");
            }
            String prompt;
            String response;
            if (n.has("prompt") || n.has("response")) {
                prompt = text(file, i + 1, n, "prompt");
                response = needResponse || n.has("response") ? text(file, i + 1, n, "response") : "";
            } else if (n.has("instruction") || n.has("output")) {
                prompt = text(file, i + 1, n, "instruction");
                String input = n.path("input").isTextual() ? n.get("input").asText() : "";
                prompt = input.isBlank() ? prompt : prompt + "\n" + input;
                response = needResponse || n.has("output") ? text(file, i + 1, n, "output") : "";
            } else {
                throw new HeadGuardException(file + ": line " + (i + 1) + ": no 'prompt'/'response' or 'instruction'/'output' fields");
            }
            out.add(new PromptResponse(prompt, response, label(file, i + 1, n.get("label"))));
        }
        return out;
    }

    private static String text(Path file, int line, JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual() || v.asText().isBlank()) {
            throw new HeadGuardException(file + ": line " + line + ": '" + field + "' is " + (v == null ? "missing" : "not a non-blank string"));
        }
        if (v.asText().length() > SentenceFile.MAX_CHARS) {
            throw new HeadGuardException(file + ": line " + line + ": '" + field + "' has more than " + SentenceFile.MAX_CHARS + " characters");
        }
        return v.asText();
    }

    private static int label(Path file, int line, JsonNode v) {
        if (v == null || v.isNull()) {
            return -1;
        }
        String s = v.asText().strip();
        if (!(v.isIntegralNumber() || v.isTextual()) || !s.matches("\\d{1,9}")) {
            throw new HeadGuardException(file + ": line " + line + ": 'label' must be a class id 0, 1, ... (got " + v + ")");
        }
        return Integer.parseInt(s);
    }

    private static List<PromptResponse> tsv(Path file, List<String> lines) {
        List<String> prompts = SentenceFile.tsvColumn(file, lines, "prompt");
        List<String> responses = SentenceFile.tsvColumn(file, lines, "response");
        List<String> labels = List.of(lines.get(0).split("\t")).contains("label") ? SentenceFile.tsvColumn(file, lines, "label") : null;
        List<PromptResponse> out = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            int label = -1;
            if (labels != null) {
                if (!labels.get(i).strip().matches("\\d{1,9}")) {
                    throw new HeadGuardException(file + ": line " + (i + 2) + ": 'label' must be a class id 0, 1, ... (got '" + labels.get(i) + "')");
                }
                label = Integer.parseInt(labels.get(i).strip());
            }
            out.add(new PromptResponse(prompts.get(i), responses.get(i), label));
        }
        return out;
    }

    /** JSON lines: prompt, response and, when known, label; written to a temporary file and moved into place. */
    public static void write(Path file, List<PromptResponse> rows) {
        AtomicFiles.write(file, jsonLines(rows));
    }

    /** The rows as the file holds them. */
    public static String jsonLines(List<PromptResponse> rows) {
        ObjectMapper om = new ObjectMapper();
        StringBuilder b = new StringBuilder();
        for (PromptResponse r : rows) {
            ObjectNode o = om.createObjectNode();
            o.put("prompt", r.prompt());
            o.put("response", r.response());
            if (r.label() >= 0) {
                o.put("label", r.label());
            }
            try {
                b.append(om.writeValueAsString(o)).append('\n');
            } catch (IOException e) {
                throw new IllegalStateException(e); // plain strings and ints always serialise
            }
        }
        return b.toString();
    }
}
