package dev.headguard.train;

import ai.djl.ndarray.NDManager;
import dev.headguard.cli.Main;
import dev.headguard.model.Family;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.KvCache;
import dev.headguard.model.io.ModelStore;
import dev.headguard.model.io.SafeTensors;
import dev.headguard.testing.HfOracle;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A decoder pretrained from scratch learns its corpus, repeats with its seed, and loads back as a language model. */
class PretrainingTest {
    @TempDir
    static Path dir;
    static Path corpus;
    static Path tokenizer;

    @BeforeAll
    static void corpus() throws IOException {
        // Short sentences from a small grammar: learnable in a few dozen steps, unlike random text.
        Random r = new Random(3);
        String[] who = {"the king", "the queen", "a citizen", "my lord"};
        String[] did = {"speaks", "walks", "waits", "sleeps"};
        String[] where = {"in the hall", "at the gate", "by the river"};
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 1500; i++) {
            sb.append(who[r.nextInt(who.length)]).append(' ').append(did[r.nextInt(did.length)]).append(' ').append(where[r.nextInt(where.length)]).append(" .\n");
            if (i % 10 == 9) {
                sb.append('\n');
            }
        }
        corpus = Files.writeString(dir.resolve("corpus.txt"), sb.toString());
        tokenizer = dir.resolve("tokenizer.json");
        try (InputStream in = PretrainingTest.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            Files.copy(in, tokenizer);
        }
    }

    private static Pretraining.Result pretrain(Family family, Path out, long seed) {
        return pretrain(family, out, seed, 0, false, new Trainer.Listener() {});
    }

    private static Pretraining.Result pretrain(Family family, Path out, long seed, int checkpointEvery, boolean resume, Trainer.Listener listener) {
        TrainConfig d = TrainConfig.defaults();
        TrainConfig train = new TrainConfig(1, 8, 5e-3, d.weightDecay(), d.warmupRatio(), d.maxGradNorm(), seed, checkpointEvery);
        try (NDManager root = TorchRuntime.newManager()) {
            return Pretraining.run(new Pretraining.Request(new Pretraining.Architecture(family, 2, 2, 32, 16), List.of(corpus), tokenizer, 80, 0.05,
                    train, out, resume), root, listener);
        }
    }

    /** A run stopped after a checkpoint and resumed ends as the uninterrupted run does, loss for loss, and leaves no checkpoint. */
    @Test
    void aStoppedRunResumesWhereItStopped() {
        Pretraining.Result whole = pretrain(Family.GPT2, dir.resolve("whole"), 11, 20, false, new Trainer.Listener() {});
        Path out = dir.resolve("stopped");
        RuntimeException stop = new RuntimeException("stopped at step 50");
        try {
            pretrain(Family.GPT2, out, 11, 20, false, new Trainer.Listener() {
                @Override
                public void onStep(Trainer.Progress p) {
                    if (p.step() == 50) {
                        throw stop;
                    }
                }
            });
        } catch (RuntimeException e) {
            assertEquals(stop, e);
        }
        assertTrue(Files.notExists(out), "a stopped run writes no model");
        assertTrue(Files.isDirectory(Checkpoint.dirFor(out)), "it leaves its checkpoint (step 40)");
        Pretraining.Result resumed = pretrain(Family.GPT2, out, 11, 20, true, new Trainer.Listener() {});
        assertEquals(whole.losses(), resumed.losses());
        assertEquals(whole.perplexityAfter(), resumed.perplexityAfter(), 1e-9);
        assertTrue(Files.notExists(Checkpoint.dirFor(out)), "a finished run removes its checkpoint");
    }

    @Test
    void aGpt2LearnsItsCorpusAndRepeatsWithItsSeed() {
        Pretraining.Result a = pretrain(Family.GPT2, dir.resolve("a"), 7);
        assertTrue(a.perplexityBefore() > 10_000, "a random model spreads over the 30,522 words: " + a.perplexityBefore());
        assertTrue(a.perplexityAfter() < 100, "the grammar's words are learned: held-out perplexity " + a.perplexityAfter());
        List<Double> l = a.losses();
        assertEquals(80, l.size());
        assertTrue(mean(l.subList(70, 80)) < mean(l.subList(0, 10)) - 3, "the loss falls: " + l.subList(0, 10) + " -> " + l.subList(70, 80));
        Pretraining.Result b = pretrain(Family.GPT2, dir.resolve("b"), 7);
        assertEquals(a.losses(), b.losses(), "the same seed gives the same run");
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = ModelStore.load(dir.resolve("a"), root, 0)) {
            assertTrue(m.model().config().languageModel());
            assertEquals(16, m.tokenizer().maxLength(), "the model's positions are the context");
            assertEquals(0, m.tokenizer().leadingSpecials(), "a decoder's prompt gets no [CLS]");
            assertEquals(0, m.tokenizer().trailingSpecials().length, "nor a [SEP]");
        }
    }

    @Test
    void aLlamaShapePretrainsAndGenerates() throws IOException {
        Path out = dir.resolve("llama");
        Pretraining.Result r = pretrain(Family.LLAMA, out, 1);
        assertTrue(r.perplexityAfter() < r.perplexityBefore() / 100, r.perplexityBefore() + " -> " + r.perplexityAfter());
        Path prompts = Files.writeString(dir.resolve("prompts.txt"), "the king\n");
        Main.Captured c = Main.capture("generate", "--model", out.toString(), "--prompts", prompts.toString(), "--max-new", "4", "--json");
        assertEquals(0, c.code(), c.err());
        assertTrue(c.out().contains("\"generation\""), c.out());
    }

    /** What pretrain writes is a causal LM transformers reads: the same next-token logits after each prompt. */
    @Test
    void transformersReadsThePretrainedModel() throws Exception {
        Path out = dir.resolve("oracle");
        pretrain(Family.GPT2, out, 5);
        List<String> prompts = List.of("the king speaks", "a citizen waits by the", "my lord");
        Path file = Files.write(dir.resolve("oracle-prompts.txt"), prompts);
        Path logits = dir.resolve("oracle.safetensors");
        Process p = new ProcessBuilder(HfOracle.python().toString(), "scripts/hf-lm-logits.py", out.toString(), file.toString(), logits.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("oracle.log").toFile()).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES) && p.exitValue() == 0, "transformers loads it: " + Files.readString(dir.resolve("oracle.log")));
        SafeTensors.Contents hf = SafeTensors.read(logits);
        assertEquals("GPT2LMHeadModel", hf.metadata().get("class"));
        float[] theirs = hf.tensors().get("logits").toFloats();
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = ModelStore.load(out, root, 0)) {
            int v = m.model().config().vocabSize();
            for (int i = 0; i < prompts.size(); i++) {
                try (NDManager step = root.newSubManager(); KvCache cache = new KvCache(step, m.model().config().numHiddenLayers())) {
                    long[] ids = m.tokenizer().ids(prompts.get(i));
                    float[] ours = m.model().nextTokenLogits(step.create(ids, new Shape(1, ids.length)), cache).toFloatArray();
                    for (int k = 0; k < v; k++) {
                        assertEquals(theirs[i * v + k], ours[k], 1e-4, prompts.get(i) + ": logit of token " + k);
                    }
                }
            }
        }
    }

    @Test
    void badShapesAndFilesAreRefusedBeforeAnyWork() {
        List<String[]> cases = new ArrayList<>();
        cases.add(new String[] {"pretrain", "--arch", "bert", "--corpus", corpus.toString(), "--out", dir.resolve("x").toString()});
        cases.add(new String[] {"pretrain", "--width", "30", "--heads", "4", "--corpus", corpus.toString(), "--out", dir.resolve("x").toString()});
        cases.add(new String[] {"pretrain", "--corpus", dir.resolve("missing.txt").toString(), "--out", dir.resolve("x").toString()});
        cases.add(new String[] {"pretrain", "--held-out", "0", "--corpus", corpus.toString(), "--out", dir.resolve("x").toString()});
        cases.add(new String[] {"pretrain", "--context", "100000", "--corpus", corpus.toString(), "--out", dir.resolve("x").toString()});
        cases.add(new String[] {"pretrain", "--width", "1000000", "--heads", "2", "--corpus", corpus.toString(), "--out", dir.resolve("x").toString()});
        cases.add(new String[] {"pretrain", "--resume", "--corpus", corpus.toString(), "--out", dir.resolve("x").toString()});
        for (String[] args : cases) {
            Main.Captured c = Main.capture(args);
            assertEquals(2, c.code(), String.join(" ", args) + ": " + c.err());
            assertEquals(1, c.err().strip().lines().count(), c.err());
            assertTrue(Files.notExists(dir.resolve("x")));
        }
    }

    private static double mean(List<Double> x) {
        return x.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }
}
