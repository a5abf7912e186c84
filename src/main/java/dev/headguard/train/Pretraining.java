package dev.headguard.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.HeadGuardException;
import dev.headguard.model.Family;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.ModelConfig;
import dev.headguard.model.ParameterTable;
import dev.headguard.model.TransformerModel;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.SentenceFile;
import dev.headguard.text.TextTokenizer;
import dev.headguard.text.TokenBatch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Pretrains a small decoder from scratch on plain text: next-token prediction,
 * L = −(1/N) Σ_t log p(x_{t+1} | x_≤t), over windows of the corpus drawn at seeded random offsets
 * (nanoGPT's sampling), with the fine-tuning trainer's AdamW, schedule, clipping and finite checks.
 * The vocabulary is a WordPiece one (by default MiniLM's), so a pretrained decoder and the
 * classifiers share words, and a rare-word trigger is one token for both.
 */
public final class Pretraining {
    private Pretraining() {}

    /** The decoder's shape. */
    public record Architecture(Family family, int layers, int heads, int width, int context) {
        public Architecture {
            if (family != Family.GPT2 && family != Family.LLAMA) {
                throw new HeadGuardException("--arch: " + family.modelType + " cannot be pretrained (gpt2 or llama)");
            }
            if (layers < 1 || heads < 1 || width < 1 || width % heads != 0 || (width / heads) % 2 != 0) {
                throw new HeadGuardException("--width " + width + " must be a positive multiple of twice --heads " + heads + " (even head size)");
            }
            if (context < 8 || context > 4096) {
                throw new HeadGuardException("--context must be between 8 and 4096 tokens (got " + context + ")");
            }
            // Bounds a small decoder never needs and a typo easily gives: they would exhaust memory, not train.
            if (layers > 48 || heads > 64 || width > 4096) {
                throw new HeadGuardException("--layers at most 48, --heads at most 64, --width at most 4096 (got " + layers + ", " + heads + ", " + width + ")");
            }
        }
    }

    /**
     * @param corpus    text files: {@code .txt} (a blank line ends a document) or data files with a
     *                  {@code sentence} column (each sentence a document)
     * @param tokenizer a WordPiece {@code tokenizer.json}; its [CLS]/[SEP] template is dropped, [SEP]
     *                  ends each document
     * @param steps     optimisation steps, each on {@code train.batchSize()} windows
     * @param heldOut   the share of the token stream (its end) kept out of training for the perplexity
     * @param resume    continue from OUT.checkpoint (written every {@code train.checkpointEvery()} steps)
     *                  where a run with the same settings and corpus stopped
     */
    public record Request(Architecture arch, List<Path> corpus, Path tokenizer, int steps, double heldOut, TrainConfig train, Path out, boolean resume) {}

    /** The finished run: the losses, and the held-out perplexity before (the random model) and after. */
    /** @param stepsTrained the steps this call ran (fewer than requested after {@code resume}), over {@code trainingSeconds} */
    public record Result(int trainTokens, int heldOutTokens, double perplexityBefore, double perplexityAfter, long stepsTrained, double trainingSeconds,
                         double seconds, List<Double> losses) {}

    public static Result run(Request r, NDManager root, Trainer.Listener listener) {
        long t0 = System.nanoTime();
        Path work;
        try {
            work = Files.createTempDirectory("headguard-pretrain");
        } catch (IOException e) {
            throw new HeadGuardException("cannot create a temporary folder (" + e.getMessage() + ")");
        }
        try {
            Path tokenizerFile = work.resolve(ModelStore.TOKENIZER);
            writeDecoderTokenizer(r.tokenizer(), tokenizerFile);
            // The model is built in memory as fine-tuning builds it; only the finished one is written.
            try (TextTokenizer tok = TextTokenizer.open(tokenizerFile, 512)) {
                int eos = TextTokenizer.idIn(tok.vocabulary(), "[SEP]");
                if (eos < 0) {
                    throw new HeadGuardException(r.tokenizer() + ": no [SEP] token to end documents with");
                }
                long[] stream = tokenStream(tok, r.corpus(), eos);
                int held = (int) Math.round(stream.length * r.heldOut());
                int trainEnd = stream.length - held;
                int context = r.arch().context();
                if (trainEnd < 4 * (context + 1) || held < context + 1) {
                    throw new HeadGuardException("--corpus: " + stream.length + " tokens are too few for windows of " + context + " tokens and a held-out part");
                }
                ModelConfig config = config(r.arch(), tok.idLimit(), eos);
                List<long[]> windows = trainWindows(stream, trainEnd, context, r.steps() * r.train().batchSize(), r.train().seed());
                List<long[]> heldOut = heldOutWindows(stream, trainEnd, context);
                try (TransformerModel model = new TransformerModel(config, ParameterTable.initialWeights(config, Map.of(), r.train().seed()), root)) {
                    double before = perplexity(model, heldOut, root);
                    long trainStart = System.nanoTime();
                    Trainer trainer = new Trainer(model, tok.padId(), r.train().withEpochs(1), root)
                            .withAuxiliaryLoss((rows, batch, out, step) -> nextTokenLoss(model, batch, out.lastHiddenState(), step));
                    Path checkpoint = Checkpoint.dirFor(r.out());
                    String fingerprint = fingerprint(r, config, stream);
                    Trainer.TrainState start = r.resume() ? Checkpoint.restore(checkpoint, model, trainer.optimizer(), fingerprint)
                            : Trainer.TrainState.start();
                    int[] noLabels = new int[windows.size()];
                    java.util.Arrays.fill(noLabels, -1);
                    Trainer.TrainState state = trainer.train(windows, noLabels, List.of(), new int[0], start, new Trainer.Listener() {
                        @Override
                        public void onStep(Trainer.Progress p) {
                            listener.onStep(p);
                        }

                        @Override
                        public void onEpoch(Trainer.Epoch e) {
                            listener.onEpoch(e);
                        }

                        @Override
                        public void onCheckpoint(Trainer.TrainState st) {
                            if (st.epoch() == 0) { // the end of the only epoch needs none: the model is written next
                                Checkpoint.save(checkpoint, model, trainer.optimizer(), st, fingerprint);
                            }
                        }
                    });
                    trainer.optimizer().close();
                    double trainingSeconds = (System.nanoTime() - trainStart) / 1e9;
                    double after = perplexity(model, heldOut, root);
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    Map<String, Object> prov = new LinkedHashMap<>();
                    prov.put("command", "pretrain");
                    prov.put("architecture", Map.of("family", r.arch().family().modelType, "layers", r.arch().layers(), "heads", r.arch().heads(),
                            "width", r.arch().width(), "context", context));
                    prov.put("corpus", r.corpus().stream().map(p -> p.toAbsolutePath().toString()).toList());
                    prov.put("tokenizer_from", r.tokenizer().toAbsolutePath().toString());
                    prov.put("train_tokens", trainEnd);
                    prov.put("held_out_tokens", held);
                    prov.put("steps", r.steps());
                    prov.put("train_config", r.train());
                    prov.put("held_out_perplexity", after);
                    prov.put("held_out_perplexity_at_init", before);
                    prov.put("training_seconds", trainingSeconds);
                    prov.put("seconds", seconds);
                    ModelStore.save(model, tok.file(), r.out(), prov);
                    ModelStore.deleteWithTemporaries(checkpoint);
                    return new Result(trainEnd, held, before, after, state.step() - start.step(), trainingSeconds, seconds, state.losses());
                }
            }
        } finally {
            ModelStore.deleteRecursively(work);
        }
    }

    /** Settings, shape, tokenizer and corpus: a resume must match all of them. */
    static String fingerprint(Request r, ModelConfig config, long[] stream) {
        String s = r.arch() + "|" + config + "|" + r.train() + "|" + r.steps() + "|" + r.heldOut() + "|" + r.corpus().stream().map(p -> p.toAbsolutePath().toString()).toList()
                + "|" + java.util.Arrays.hashCode(stream);
        return Integer.toHexString(s.hashCode()) + "-" + stream.length;
    }

    /** exp of the mean next-token loss over the windows, with the model as it is (no dropout). */
    public static double perplexity(TransformerModel model, List<long[]> windows, NDManager root) {
        double sum = 0;
        int n = 0;
        for (int i = 0; i < windows.size(); i += 16) {
            TokenBatch batch = TokenBatch.of(windows.subList(i, Math.min(windows.size(), i + 16)), 0);
            try (NDManager m = root.newSubManager()) {
                TokenBatch.Arrays in = batch.toArrays(m);
                NDArray h = model.forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), ForwardOptions.INFERENCE).lastHiddenState();
                sum += nextTokenLoss(model, batch, h, m).getFloat() * batch.batch();
                n += batch.batch();
            }
        }
        return Math.exp(sum / n);
    }

    /** Mean −log p(x_{t+1} | x_≤t) over every position but the last of equal-length windows (no padding). */
    static NDArray nextTokenLoss(TransformerModel model, TokenBatch batch, NDArray lastHiddenState, NDManager m) {
        long t = lastHiddenState.getShape().get(1);
        NDArray logits = model.lmLogits(lastHiddenState.get(":, 0:" + (t - 1) + ", :"));                      // (B, T−1, V)
        NDArray next = batch.toArrays(m).inputIds().get(":, 1:").toType(DataType.INT64, false).expandDims(2); // (B, T−1, 1)
        return logits.logSoftmax(-1).gather(next, 2).mean().neg();
    }

    /** A GPT-2 (learned positions, GELU, LayerNorm) or Llama (rotary, SwiGLU, RMSNorm, 2 query heads per K/V head) shape, tied LM head. */
    static ModelConfig config(Architecture a, int vocab, int eos) {
        if (a.family() == Family.GPT2) {
            return new ModelConfig(Family.GPT2, new ModelConfig.Shape(vocab, a.width(), a.layers(), a.heads(), 4 * a.width(), a.context(), 1, a.width()),
                    new ModelConfig.Blocks("gelu_new", 1e-5, 0.1, 0.1, 0.02), 0, List.of(),
                    new ModelConfig.Decoder(a.heads(), 0, true, true, true, eos), null);
        }
        int kv = a.heads() % 2 == 0 ? a.heads() / 2 : a.heads();
        int ffn = 64 * Math.max(1, (int) Math.round(8.0 * a.width() / 3 / 64)); // SwiGLU's 8/3 E, a multiple of 64
        return new ModelConfig(Family.LLAMA, new ModelConfig.Shape(vocab, a.width(), a.layers(), a.heads(), ffn, a.context(), 1, a.width()),
                new ModelConfig.Blocks("silu", 1e-6, 0.0, 0.0, 0.02), 0, List.of(),
                new ModelConfig.Decoder(kv, 10000, false, true, true, eos), null);
    }

    /**
     * The tokenizer without its [CLS] … [SEP] template (a decoder reads text as it comes and ends
     * documents with [SEP] itself) and without fixed padding and truncation, which a prompt must not get.
     */
    static void writeDecoderTokenizer(Path from, Path to) {
        ObjectNode root;
        try {
            root = (ObjectNode) new ObjectMapper().readTree(from.toFile());
        } catch (IOException | ClassCastException e) {
            throw new HeadGuardException(from + ": not a valid tokenizer.json");
        }
        if (root == null || !"WordPiece".equals(root.path("model").path("type").asText())) {
            throw new HeadGuardException(from + ": pretraining needs a WordPiece tokenizer.json (the built-in models' kind)");
        }
        root.set("post_processor", NullNode.getInstance());
        root.set("padding", NullNode.getInstance());
        root.set("truncation", NullNode.getInstance());
        try {
            Files.writeString(to, new ObjectMapper().writeValueAsString(root));
        } catch (IOException e) {
            throw new HeadGuardException(to + ": cannot write (" + e.getMessage() + ")");
        }
    }

    /** Every document's tokens followed by [SEP], files in order. */
    static long[] tokenStream(TextTokenizer tok, List<Path> corpus, long eos) {
        // Long documents are tokenized line by line (the tokenizer truncates, a document does not), all lines in batches.
        List<String> lines = new ArrayList<>();
        List<Integer> ends = new ArrayList<>(); // after how many lines each document ends
        for (Path f : corpus) {
            for (String doc : documents(f)) {
                for (String line : doc.split("\n")) {
                    if (!line.isBlank()) {
                        lines.add(line);
                    }
                }
                ends.add(lines.size());
            }
        }
        List<long[]> ids = tok.idsOf(lines);
        int n = ids.stream().mapToInt(p -> p.length).sum() + ends.size();
        long[] out = new long[n];
        int at = 0;
        int line = 0;
        for (int end : ends) {
            for (; line < end; line++) {
                System.arraycopy(ids.get(line), 0, out, at, ids.get(line).length);
                at += ids.get(line).length;
            }
            out[at++] = eos;
        }
        return out;
    }

    /** A .txt file's blank-line-separated documents, or a data file's sentences. */
    public static List<String> documents(Path f) {
        if (!Files.isRegularFile(f)) {
            throw new HeadGuardException(f + ": file not found");
        }
        if (!f.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".txt")) {
            return SentenceFile.readSentences(f);
        }
        String text;
        try {
            text = Files.readString(f);
        } catch (IOException e) {
            throw new HeadGuardException(f + ": cannot read (" + e.getMessage() + ")");
        }
        List<String> docs = new ArrayList<>();
        for (String d : text.split("\\n\\s*\\n")) {
            if (!d.isBlank()) {
                docs.add(d);
            }
        }
        return docs;
    }

    /** {@code count} windows of {@code context} tokens at seeded random offsets in the stream's first {@code end} tokens. */
    static List<long[]> trainWindows(long[] stream, int end, int context, int count, long seed) {
        Random r = new Random(seed);
        List<long[]> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int at = r.nextInt(end - context + 1);
            out.add(java.util.Arrays.copyOfRange(stream, at, at + context));
        }
        return out;
    }

    /** Consecutive windows of the held-out part (at most 256). */
    static List<long[]> heldOutWindows(long[] stream, int from, int context) {
        List<long[]> out = new ArrayList<>();
        for (int at = from; at + context <= stream.length && out.size() < 256; at += context) {
            out.add(java.util.Arrays.copyOfRange(stream, at, at + context));
        }
        return out;
    }
}
