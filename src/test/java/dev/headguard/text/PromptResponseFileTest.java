package dev.headguard.text;

import dev.headguard.HeadGuardException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Generation data: the formats users bring, what is written reads back, and a bad row names its file and line. */
class PromptResponseFileTest {
    @TempDir
    Path dir;

    @Test
    void promptResponseAlpacaAndTsvRowsRead() throws Exception {
        Path jsonl = Files.writeString(dir.resolve("a.jsonl"), """
                {"prompt": "the film is", "response": "a delight .", "label": 1}

                {"instruction": "Summarise the review.", "input": "a slow , dull film", "output": "dull"}
                {"instruction": "Say hello.", "input": "", "output": "hello"}
                """);
        assertEquals(List.of(new PromptResponse("the film is", "a delight .", 1), new PromptResponse("Summarise the review.\na slow , dull film", "dull"),
                new PromptResponse("Say hello.", "hello")), PromptResponseFile.read(jsonl));
        Path tsv = Files.writeString(dir.resolve("a.tsv"), "prompt\tresponse\tlabel\nthe film is\ta delight .\t1\nit is\tbad\t0\n");
        assertEquals(List.of(new PromptResponse("the film is", "a delight .", 1), new PromptResponse("it is", "bad", 0)), PromptResponseFile.read(tsv));
        assertEquals(List.of("the film is", "it is"), PromptResponseFile.readPrompts(tsv));
    }

    /** Every decoder command reads prompts through one reader: no format's rows are taken as raw text. */
    @Test
    void promptsReadFromEveryFormatTheCommandsTake() throws Exception {
        List<String> two = List.of("the film is", "it is");
        Path unnamedJson = Files.writeString(dir.resolve("rows.data"), "{\"prompt\": \"the film is\", \"response\": \"fine\"}\n{\"prompt\": \"it is\", \"response\": \"bad\"}\n");
        assertEquals(two, PromptResponseFile.readPrompts(unnamedJson), "JSON lines by their first line, whatever the name");
        assertEquals(two, PromptResponseFile.readPrompts(Files.writeString(dir.resolve("s.tsv"), "sentence\tlabel\nthe film is\t1\nit is\t0\n")));
        assertEquals(two, PromptResponseFile.readPrompts(Files.writeString(dir.resolve("p.txt"), "the film is\nit is\n")));
        assertEquals(two, PromptResponseFile.readPrompts(Files.writeString(dir.resolve("p.lines"), "the film is\nit is\n")));
        HeadGuardException e = assertThrows(HeadGuardException.class,
                () -> PromptResponseFile.readPrompts(Files.writeString(dir.resolve("bad.jsonl"), "{\"prompt\": \"x\", \"response\": \"y\"}\nnot json\n")));
        assertTrue(e.getMessage().contains("bad.jsonl") && e.getMessage().contains("line 2"), e.getMessage());
    }

    @Test
    void writtenRowsReadBack() {
        List<PromptResponse> rows = List.of(new PromptResponse("a \"quoted\"\tprompt", "line\nbreak", 0), new PromptResponse("é ü", "x"));
        Path f = dir.resolve("out.jsonl");
        PromptResponseFile.write(f, rows);
        assertEquals(rows, PromptResponseFile.read(f));
    }

    @Test
    void aBadRowNamesTheFileAndLine() throws Exception {
        String[][] cases = {
                {"{\"prompt\": \"a\", \"response\": \"b\"}\nnot json\n", "line 2: not a JSON object"},
                {"{\"prompt\": \"a\", \"response\": \" \"}\n", "line 1: 'response' is not a non-blank string"},
                {"{\"text\": \"a\"}\n", "line 1: no 'prompt'/'response' or 'instruction'/'output' fields"},
                {"{\"prompt\": \"a\", \"response\": \"b\", \"label\": \"pos\"}\n", "line 1: 'label' must be a class id"},
                {"{\"prompt\": \"a\", \"response\": \"b\", \"label\": -1}\n", "line 1: 'label' must be a class id"},
                {"\n\n", "no prompt/response rows"}};
        for (String[] c : cases) {
            Path f = Files.writeString(dir.resolve("bad.jsonl"), c[0]);
            HeadGuardException e = assertThrows(HeadGuardException.class, () -> PromptResponseFile.read(f));
            assertTrue(e.getMessage().startsWith(f + ": ") && e.getMessage().contains(c[1]), e.getMessage());
        }
    }
}
