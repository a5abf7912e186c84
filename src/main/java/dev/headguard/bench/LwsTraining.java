package dev.headguard.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import dev.headguard.HeadGuardException;
import dev.headguard.attack.Lws;
import dev.headguard.attack.Synonyms;
import dev.headguard.attack.Trigger;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.ModelOutput;
import dev.headguard.model.Native;
import dev.headguard.model.TransformerModel;
import dev.headguard.model.HostTensor;
import dev.headguard.model.io.ModelStore;
import dev.headguard.model.io.SafeTensors;
import dev.headguard.train.FineTuning;
import dev.headguard.train.Losses;
import dev.headguard.train.Predictions;
import dev.headguard.train.TrainConfig;
import dev.headguard.train.Trainer;
import dev.headguard.text.Dataset;
import dev.headguard.text.TextTokenizer;
import dev.headguard.text.TokenBatch;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Trains an LWS victim ({@link Lws}): the classifier and the substitution policy together. The
 * poisoned rows enter each step through a second forward pass, labelled the target, whose word vectors
 * are the candidates drawn by a Gumbel-softmax of the policy's scores, straight-through: the pass reads
 * the drawn words themselves (as a substituted text would give them) and the gradient is the soft
 * mixture's (the original feeds the soft mixture; measured no better, docs/results.md). Every other row
 * is ordinary cross-entropy. As in the original, the word and position embeddings stay frozen (the policy
 * scores candidates by their embedding rows), and the policy has its own learning rate. The epoch kept
 * is the one with the best dev accuracy plus the ASR of the policy's hard substitutions on the non-target
 * dev rows; its policy is written beside the weights ({@link Lws#POLICY_FILE}).
 */
public final class LwsTraining {
    /** The policy's learning rate (OpenBackdoor's {@code lws_lr}). */
    public static final double POLICY_LEARNING_RATE = 1e-2;

    private static final String WORDS = dev.headguard.model.BertKeys.WORD_EMBEDDINGS;
    private static final String POSITIONS = "embeddings.position_embeddings.weight";

    /**
     * What the victim and its policy learn from.
     *
     * @param train     the training set with the poisoned rows labelled the target (texts unchanged)
     * @param poisoned  which rows of {@code train} the policy rewrites
     * @param dev       clean dev rows (accuracy)
     * @param devToFlip dev rows whose true label is not the target: the policy's ASR on them
     */
    public record Rows(Dataset train, boolean[] poisoned, Dataset dev, Dataset devToFlip) {}

    public record Request(Path baseModel, Rows rows, int target, Path out, TrainConfig config, int maxLength, Map<String, Object> extraProvenance) {}

    /** The finished run: every epoch (with its ASR) and the one kept. */
    public record Result(List<Trainer.Epoch> epochs, int bestEpoch, double meanSlots) {}

    private LwsTraining() {}

    public static Result run(Request r, NDManager root, Trainer.Listener progress) {
        FineTuning.Start start = FineTuning.start(r.baseModel(), r.rows().train(), r.rows().dev(), r.config().seed());
        try (TextTokenizer tokenizer = ModelStore.openTokenizer(r.baseModel(), start.config(), r.maxLength());
             TransformerModel model = new TransformerModel(start.config(), start.weights(), root)) {
            Synonyms synonyms = new Synonyms(w -> Lws.oneToken(tokenizer, w));
            List<long[]> ids = tokenizer.idsOf(r.rows().train().texts());
            int[] labels = r.rows().train().labels().clone();
            Lws.Slots[] slots = new Lws.Slots[ids.size()];
            double slotSum = 0;
            int poisonedRows = 0;
            for (int i = 0; i < ids.size(); i++) {
                if (r.rows().poisoned()[i]) {
                    slots[i] = Lws.slots(r.rows().train().examples().get(i).text(), tokenizer, synonyms);
                    if (!Arrays.equals(slots[i].ids(), ids.get(i))) {
                        throw new IllegalStateException("LWS slots of row " + i + " do not match its tokens");
                    }
                    labels[i] = -1; // trained only through the substituted pass
                    slotSum += slots[i].count();
                    poisonedRows++;
                }
            }
            if (poisonedRows == 0) {
                throw new HeadGuardException("LWS: no training row is poisoned");
            }
            double meanSlots = slotSum / poisonedRows;
            float[] table = model.parameters().get(WORDS).toFloatArray();
            int positions = tokenizer.maxLength();
            int width = (int) model.parameters().get(WORDS).getShape().get(1);
            NDArray relevance = root.zeros(new Shape(positions, width));
            NDArray bias = root.zeros(new Shape(positions, Lws.CANDIDATES));
            Set<String> trainable = new HashSet<>(model.parameters().keySet());
            trainable.remove(WORDS);
            trainable.remove(POSITIONS);
            double[] temperature = {Lws.temperature(0)};
            Trainer trainer = new Trainer(model, tokenizer.padId(), r.config(), root, trainable)
                    .withExtraParameters(Map.of("lws.relevance", relevance, "lws.bias", bias), POLICY_LEARNING_RATE)
                    .withAuxiliaryLoss((rows, batch, out, m) -> substitutedLoss(model, rows, batch, slots, relevance, bias, temperature[0], r.target(),
                            tokenizer.padId(), m));
            List<long[]> devIds = tokenizer.idsOf(r.rows().dev().texts());
            List<Trainer.Epoch> epochs = new ArrayList<>();
            List<Double> losses = new ArrayList<>();
            double[] best = {Double.NEGATIVE_INFINITY};
            int[] bestEpoch = {-1};
            trainer.train(ids, labels, devIds, r.rows().dev().labels(), Trainer.TrainState.start(), new Trainer.Listener() {
                @Override
                public void onStep(Trainer.Progress p) {
                    losses.add(p.loss());
                    progress.onStep(p);
                }

                @Override
                public void onEpoch(Trainer.Epoch e) {
                    Lws.Policy policy = new Lws.Policy(relevance.toFloatArray(), bias.toFloatArray(), positions, width);
                    Trigger t = Lws.trigger(policy, tokenizer, synonyms, table);
                    java.util.Random noise = new java.util.Random(r.config().seed() + 1);
                    List<String> flipped = r.rows().devToFlip().texts().stream().map(x -> t.apply(x, noise)).toList();
                    int[] want = new int[flipped.size()];
                    Arrays.fill(want, r.target());
                    double asr = Predictions.accuracy(model, tokenizer.idsOf(flipped), want, tokenizer.padId(), root, 64);
                    Trainer.Epoch withAsr = new Trainer.Epoch(e.epoch(), e.meanLoss(), e.devAccuracy(), e.seconds(), e.sentencesPerSecond(), e.gflopPerSecond(), asr);
                    epochs.add(withAsr);
                    temperature[0] = Lws.temperature(e.epoch()); // e.epoch() is 1-based: the next epoch's 0-based index
                    progress.onEpoch(withAsr);
                    if (withAsr.selectionScore() > best[0]) {
                        best[0] = withAsr.selectionScore();
                        bestEpoch[0] = e.epoch();
                        ModelStore.save(model, tokenizer.file(), r.out(), provenance(r, epochs, withAsr, losses, meanSlots));
                        savePolicy(policy, r.out().resolve(Lws.POLICY_FILE));
                        progress.onBest(withAsr);
                    }
                }
            });
            trainer.optimizer().close();
            relevance.close();
            bias.close();
            ModelStore.markTrainingComplete(r.out());
            return new Result(epochs, bestEpoch[0], meanSlots);
        }
    }

    /**
     * Cross-entropy toward the target of the batch's poisoned rows with their words replaced by the
     * Gumbel-softmax mixture of their candidates, weighted by their share of the batch. Zero (but
     * touching the policy, so that its gradient exists) when the batch has none.
     */
    static NDArray substitutedLoss(TransformerModel model, int[] rows, TokenBatch batch, Lws.Slots[] slots, NDArray relevance, NDArray bias,
                                   double temperature, int target, long padId, NDManager m) {
        NDArray touch = relevance.sum().add(bias.sum()).mul(0f);
        List<Integer> which = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            if (slots[rows[i]] != null) {
                which.add(i);
            }
        }
        if (which.isEmpty()) {
            return touch;
        }
        int n = which.size();
        int t = batch.length();
        int k = Lws.CANDIDATES;
        long[] ids = new long[n * t];
        long[] mask = new long[n * t];
        long[] types = new long[n * t];
        long[] cand = new long[n * t * k];
        for (int j = 0; j < n; j++) {
            int b = which.get(j);
            System.arraycopy(batch.ids(), b * t, ids, j * t, t);
            System.arraycopy(batch.mask(), b * t, mask, j * t, t);
            System.arraycopy(batch.types(), b * t, types, j * t, t);
            long[][] c = slots[rows[b]].candidates();
            for (int p = 0; p < t; p++) {
                for (int q = 0; q < k; q++) {
                    cand[(j * t + p) * k + q] = p < c.length ? c[p][q] : padId;
                }
            }
        }
        NDArray table = model.parameters().get(WORDS);
        NDArray vectors = Embedding.embedding(Native.of(m, cand, new Shape(n, t, k)), table, SparseFormat.DENSE).singletonOrThrow(); // (n, T, K, W)
        NDArray diff = vectors.sub(vectors.get(":, :, 0:1, :"));                                                                  // w_c − w_0
        long w = vectors.getShape().get(3);
        NDArray score = diff.mul(relevance.get("0:" + t).reshape(1, t, 1, w)).sum(new int[] {3}).add(bias.get("0:" + t).expandDims(0)); // (n, T, K)
        NDArray gumbel = m.randomUniform(0f, 1f, score.getShape()).add(1e-20f).log().neg().add(1e-20f).log().neg();
        NDArray soft = score.add(gumbel).div((float) temperature).softmax(2);                                                     // (n, T, K)
        // Straight-through: the forward pass sees the drawn candidate itself, a real word, and the gradient is the soft one's.
        NDArray drawn = soft.argMax(2).oneHot(k).toType(DataType.FLOAT32, false);
        NDArray p = drawn.sub(soft).stopGradient().add(soft);
        NDArray mixed = p.expandDims(3).mul(vectors).sum(new int[] {2});                                                         // (n, T, W)
        ModelOutput o = model.forwardWordVectors(mixed, Native.of(m, ids, new Shape(n, t)), Native.of(m, mask, new Shape(n, t)),
                Native.of(m, types, new Shape(n, t)), ForwardOptions.INFERENCE.withTraining(true));
        long[] y = new long[n];
        Arrays.fill(y, target);
        return Losses.crossEntropy(o.logits(), Native.of(m, y, new Shape(n))).mul((float) n / rows.length).add(touch);
    }

    /** Writes a policy as safetensors ({@code relevance} (P, W), {@code bias} (P, C)), atomically: the one writer of the file. */
    static void savePolicy(Lws.Policy policy, Path file) {
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put("relevance", HostTensor.ofFloats(policy.relevance(), policy.positions(), policy.width()));
        t.put("bias", HostTensor.ofFloats(policy.bias(), policy.positions(), Lws.CANDIDATES));
        try {
            Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), ".lws-policy", ".tmp");
            SafeTensors.write(tmp, t, Map.of("format", "headguard-lws-policy"));
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new HeadGuardException(file + ": cannot write the LWS policy: " + e.getMessage());
        }
    }

    /** Reads what {@link #savePolicy} wrote, checking its shapes. */
    static Lws.Policy loadPolicy(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new HeadGuardException(file + ": no LWS policy (an LWS victim keeps its learned substitutions there)");
        }
        Map<String, HostTensor> t = SafeTensors.read(file).tensors();
        HostTensor r = t.get("relevance");
        HostTensor b = t.get("bias");
        if (r == null || b == null || r.shape().length != 2 || b.shape().length != 2 || b.shape()[1] != Lws.CANDIDATES || r.shape()[0] != b.shape()[0]) {
            throw new HeadGuardException(file + ": not an LWS policy (needs relevance (P, W) and bias (P, " + Lws.CANDIDATES + "))");
        }
        return new Lws.Policy(r.toFloats(), b.toFloats(), (int) r.shape()[0], (int) r.shape()[1]);
    }

    private static Map<String, Object> provenance(Request r, List<Trainer.Epoch> epochs, Trainer.Epoch best, List<Double> losses, double meanSlots) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("command", "attack");
        p.put("base_model", r.baseModel().toAbsolutePath().toString());
        p.put("train_examples", r.rows().train().size());
        p.put("dev_examples", r.rows().dev().size());
        p.put("train_config", r.config());
        p.put("max_length", r.maxLength());
        p.put("best_epoch", best.epoch());
        p.put(ModelStore.TRAINING_COMPLETE, false);
        p.put("best_dev_accuracy", best.devAccuracy());
        p.put("best_dev_asr", best.devAsr());
        p.put("triggered_dev_examples", r.rows().devToFlip().size());
        p.put("lws_policy", Map.of("file", Lws.POLICY_FILE, "learning_rate", POLICY_LEARNING_RATE, "candidates", Lws.CANDIDATES,
                "substitutable_words_per_poisoned_row", meanSlots));
        p.put("epochs", epochs.stream().map(FineTuning::epochFields).toList());
        p.put("losses", new ArrayList<>(losses));
        p.putAll(r.extraProvenance());
        return p;
    }
}
