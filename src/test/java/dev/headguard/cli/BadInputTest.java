package dev.headguard.cli;

import dev.headguard.model.io.ModelStore;
import dev.headguard.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;

import static dev.headguard.cli.CliTest.assertBadInput;
import static dev.headguard.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The defects of the hardening issue, each kept fixed: exit 2 and one line, before any work, nothing left behind. */
class BadInputTest {
    @TempDir
    Path tmp;

    private Path data() throws IOException {
        return CliTest.tsv(tmp, "train.tsv", 40, 3);
    }

    @Test
    void outputPathsAreCheckedBeforeAnyWork() throws IOException {
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        Path train = data();
        String m = model.toString();
        // Exactly one stderr line (assertBadInput): no epoch ran before the refusal.
        assertBadInput(run("train", "--model", m, "--train", train.toString(), "--out", "/"), "--out /", "root folder");
        assertBadInput(run("train", "--model", m, "--train", train.toString(), "--out", train.resolve("x").toString()), "train.tsv is a file, not a folder");
        assertBadInput(run("train", "--model", m, "--train", train.toString(), "--out", "/proc/headguard-x"), "--out /proc/headguard-x", "cannot create files");
        Path busy = Files.createDirectories(tmp.resolve("busy"));
        Files.writeString(busy.resolve("notes.txt"), "mine");
        assertBadInput(run("train", "--model", m, "--train", train.toString(), "--out", busy.toString()), "not a HeadGuard output directory");
        assertBadInput(run("repair", "--model", m, "--clean", train.toString(), "--out", "/proc/headguard-r"), "--out /proc/headguard-r");
        assertBadInput(run("scan", "model", "--model", m, "--clean", train.toString(), "--out", "/proc/x.json"), "--out /proc/x.json");
        assertBadInput(run("scan", "inputs", "--model", m, "--clean", train.toString(), "--inputs", train.toString(), "--html", tmp.toString()),
                "--html", "is a folder");
        assertBadInput(run("eval", "--model", m, "--clean", train.toString(), "--out", "/"), "--out /", "root folder");
        assertEquals("mine", Files.readString(busy.resolve("notes.txt")));
        assertFalse(Files.exists(Path.of("/proc/headguard-x")));
    }

    @Test
    void theGenerationBenchRefusesBadOptionsBeforeAnyWork() throws Exception {
        String decoder = dev.headguard.testing.HfOracle.fixtures().resolve("gpt2-lm").toString();
        String out = tmp.resolve("bench").toString();
        assertBadInput(run("bench", "--task", "generation", "--model", Fixtures.tinyModelDir(tmp, "tiny", 5).toString(), "--out", out),
                "needs a decoder with a language-model head");
        assertBadInput(run("bench", "--task", "generation", "--model", decoder, "--attacks", "syntactic", "--out", out), "--attacks: syntactic");
        assertBadInput(run("bench", "--task", "generation", "--model", decoder, "--defenses", "pure", "--out", out), "--defenses: pure");
        assertBadInput(run("bench", "--task", "generation", "--model", decoder, "--judge", decoder, "--target-phrase", "x", "--out", out), "--judge");
        assertBadInput(run("bench", "--task", "generation", "--model", decoder, "--quick", "--out", out), "--quick");
        assertBadInput(run("bench", "--model", decoder, "--target-phrase", "x", "--out", out), "--target-phrase", "only with --task generation");
        assertBadInput(run("bench", "--task", "generation", "--model", decoder, "--mode", "clean", "--out", out), "--mode", "only for classification");
        String tiny = Fixtures.tinyModelDir(tmp, "tiny2", 5).toString();
        assertBadInput(run("bench", "--model", tiny, "--attacks", "badnets", "--rate", "0", "--out", out), "--rate", "above 0");
        assertBadInput(run("bench", "--model", tiny, "--attacks", "badnets", "--rate", "1", "--out", out), "--rate", "[0, 1)");
        assertFalse(Files.exists(tmp.resolve("bench")));
    }

    @Test
    void aLinkToTheInputModelIsTheInputModel() throws IOException {
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        Path link = Files.createSymbolicLink(tmp.resolve("link"), model);
        byte[] before = Files.readAllBytes(model.resolve(ModelStore.WEIGHTS));
        assertBadInput(run("repair", "--model", link.toString(), "--clean", data().toString(), "--out", model.toString(), "--method", "finetune"),
                "input model's own directory");
        assertBadInput(run("repair", "--model", model.toString(), "--clean", data().toString(), "--out", model.resolve("sub").toString(), "--method", "finetune"),
                "inside the input model's directory");
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(model.resolve(ModelStore.WEIGHTS))), "the input is untouched");
    }

    @Test
    void numericOptionsNameTheOptionAndTheValue() throws IOException {
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        String m = model.toString();
        String train = data().toString();
        String out = tmp.resolve("o").toString();
        assertBadInput(run("train", "--model", m, "--train", train, "--out", out, "--lr", "NaN"), "--lr must be a finite number above 0 (got NaN)");
        assertBadInput(run("train", "--model", m, "--train", train, "--out", out, "--lr", "Infinity"), "--lr", "Infinity");
        assertBadInput(run("train", "--model", m, "--train", train, "--out", out, "--epochs", "-1"), "--epochs must be at least 1 (got -1)");
        assertBadInput(run("train", "--model", m, "--train", train, "--out", out, "--batch-size", "0"), "--batch-size must be at least 1 (got 0)");
        assertBadInput(run("train", "--model", m, "--train", train, "--out", out, "--max-len", "0"), "--max-len must be at least 2 (got 0)");
        assertBadInput(run("train", "--model", m, "--train", train, "--out", out, "--max-len", "-5"), "--max-len must be at least 2 (got -5)");
        assertBadInput(run("embed", "--model", m, "--input", train, "--max-len", "1"), "--max-len must be at least 2 (got 1)");
        assertBadInput(run("train", "--model", m, "--train", train, "--out", out, "--train-limit", "-1"), "--train-limit must be at least 0 (got -1)");
        assertBadInput(run("repair", "--model", m, "--clean", train, "--out", out, "--heads", "1000"), "--heads must be at most 4", "(got 1000)");
        assertBadInput(run("repair", "--model", m, "--clean", train, "--out", out, "--lr", "-1"), "--lr must be a finite number above 0");
        assertBadInput(run("repair", "--model", m, "--clean", train, "--out", out, "--align-weight", "NaN"), "--align-weight");
        assertFalse(Files.exists(Path.of(out)));
    }

    @Test
    void noCommandIsAUsageError() {
        CliTest.Run none = run();
        assertEquals(2, none.code());
        assertTrue(none.err().startsWith("headguard: no command given; usage:") && none.err().contains("Commands:"), none.err());
        CliTest.Run scan = run("scan");
        assertEquals(2, scan.code());
        assertTrue(scan.err().startsWith("headguard: scan needs a subcommand"), scan.err());
        assertEquals(0, run("--help").code(), "asking for help is not an error");
    }

    @Test
    void weightsTheConfigDoesNotDescribeAndNonFiniteWeightsAreRefused() throws IOException {
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        Path in = CliTest.tsv(tmp, "in.tsv", 4, 1);
        // The config says one layer; the file holds two.
        String cfg = Files.readString(model.resolve(ModelStore.CONFIG));
        Files.writeString(model.resolve(ModelStore.CONFIG), cfg.replace("\"num_hidden_layers\" : 2", "\"num_hidden_layers\" : 1"));
        assertBadInput(run("eval", "--model", model.toString(), "--clean", in.toString()), "model.safetensors", "weights the config.json model does not have",
                "encoder.layer.1.");
        Files.writeString(model.resolve(ModelStore.CONFIG), cfg);

        Path st = model.resolve(ModelStore.WEIGHTS);
        byte[] b = Files.readAllBytes(st);
        long headerLen = ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putFloat((int) (8 + headerLen), Float.NaN); // the first tensor's first value
        Files.write(st, b);
        assertBadInput(run("eval", "--model", model.toString(), "--clean", in.toString()), "model.safetensors", "non-finite value", "at element 0");
    }

    @Test
    void headerErrorsSayTheRealLimitAndStayShort() throws IOException {
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        Path st = model.resolve(ModelStore.WEIGHTS);
        Path in = CliTest.tsv(tmp, "in.tsv", 4, 1);
        byte[] len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(150_000_000L).array();
        byte[] big = new byte[8 + 16];
        System.arraycopy(len, 0, big, 0, 8);
        Files.write(st, big);
        assertBadInput(run("eval", "--model", model.toString(), "--clean", in.toString()), "over the format's limit of 100000000 bytes");

        String garbage = "x".repeat(600);
        byte[] hdr = garbage.getBytes(StandardCharsets.UTF_8);
        ByteBuffer bb = ByteBuffer.allocate(8 + hdr.length).order(ByteOrder.LITTLE_ENDIAN).putLong(hdr.length).put(hdr);
        Files.write(st, bb.array());
        CliTest.Run r = run("eval", "--model", model.toString(), "--clean", in.toString());
        assertBadInput(r, "header is not valid JSON");
        assertTrue(r.err().strip().length() < model.toString().length() + 200, "the bad bytes are not echoed: " + r.err().length() + " characters");
    }

    @Test
    void evalReadsLabelsAsTheModelsClasses() throws IOException {
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        Path f = Files.writeString(tmp.resolve("e.tsv"), "\uFEFFsentence\tlabel\na fine film .\t1\nthe worst .\t0\nnice\tpositive\n");
        assertBadInput(run("eval", "--model", model.toString(), "--clean", f.toString()), "e.tsv: line 4", "'positive' is not a class of the model");
        CliTest.Run skipped = run("eval", "--model", model.toString(), "--clean", f.toString(), "--skip-bad-rows", "--json");
        assertEquals(0, skipped.code(), skipped.err());
        assertTrue(skipped.err().contains("skipped 1 bad rows"), skipped.err());
        assertEquals(2, new com.fasterxml.jackson.databind.ObjectMapper().readTree(skipped.out()).path("clean").path("total").asInt(), skipped.out());
    }

    @Test
    void aTrainingRunThatDidNotFinishSaysSo() throws IOException {
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        Path prov = model.resolve(ModelStore.PROVENANCE);
        Files.writeString(prov, "{\"command\":\"train\",\"best_epoch\":1,\"train_config\":{\"epochs\":5},\"training_complete\":false}\n");
        CliTest.Run r = run("eval", "--model", model.toString(), "--clean", CliTest.tsv(tmp, "in.tsv", 4, 1).toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("warning: ") && r.err().contains("did not finish (best epoch 1 of 5)"), r.err());
        ModelStore.markTrainingComplete(model);
        assertFalse(run("eval", "--model", model.toString(), "--clean", CliTest.tsv(tmp, "in.tsv", 4, 1).toString()).err().contains("warning"));
    }

    @Test
    void whatAKilledWriterLeftIsCleanedOnceStale() throws IOException {
        Path stale = Files.createDirectories(tmp.resolve(".m.tmp-123"));
        Files.writeString(stale.resolve("model.safetensors"), "partial");
        Files.setLastModifiedTime(stale, FileTime.fromMillis(System.currentTimeMillis() - 2 * 3_600_000L));
        Path young = Files.createDirectories(tmp.resolve(".m.tmp-456")); // maybe another process's write in progress
        ModelStore.writeDirectory(tmp.resolve("m"), dir -> Files.writeString(dir.resolve("config.json"), "{}"));
        assertFalse(Files.exists(stale), "stale temporary removed");
        assertTrue(Files.exists(young), "a young one is left alone");
        ModelStore.deleteWithTemporaries(tmp.resolve("m"));
        assertFalse(Files.exists(young) || Files.exists(tmp.resolve("m")));
        Files.createDirectories(tmp.resolve("other.tmp-1"));
        assertTrue(Files.exists(tmp.resolve("other.tmp-1")), "unrelated names are never touched");
    }

    @Test
    void importRefusesAHeadCountTheGraphContradicts() throws IOException {
        Path onnx = tmp.resolve("minilm.onnx");
        try (var in = getClass().getResourceAsStream("/all-minilm-l6-v2.onnx")) {
            Files.copy(in, onnx);
        }
        Path out = tmp.resolve("imported");
        assertBadInput(run("import", "--onnx", onnx.toString(), "--tokenizer", Fixtures.tokenizer(tmp).toString(), "--out", out.toString(), "--heads", "6"),
                "--heads 6", "states 12 heads");
        assertBadInput(run("import", "--onnx", onnx.toString(), "--tokenizer", Fixtures.tokenizer(tmp).toString(), "--out", out.toString(), "--heads", "5"),
                "--heads 5", "divide the hidden size 384");
        assertFalse(Files.exists(out));
        assertEquals(0, run("import", "--onnx", onnx.toString(), "--tokenizer", Fixtures.tokenizer(tmp).toString(), "--out", out.toString(), "--heads", "12").code());
    }

}
