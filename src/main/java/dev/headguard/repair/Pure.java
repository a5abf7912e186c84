package dev.headguard.repair;

import dev.headguard.train.Predictions;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.headguard.inference.BatchRunner;
import dev.headguard.model.ModelOutput;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.HeadId;
import dev.headguard.model.Native;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Dataset;
import dev.headguard.text.TokenBatch;
import dev.headguard.train.TrainConfig;
import dev.headguard.train.Trainer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Baseline: PURE-style defense (Zhao et al., 2024), head pruning then attention normalisation.
 * <ol>
 *   <li>Score every head by the variance of its [CLS]-query attention over the real keys, averaged
 *       over the clean texts: a low variance is an unfocused head, the kind PURE prunes. Prune heads
 *       in that order, a few at a time, while held-out clean accuracy stays within {@code floor}.</li>
 *   <li>Fine-tune every parameter on the clean set (pruned heads held at zero) with a penalty that
 *       pushes each remaining head's [CLS] attention towards uniform:
 *       <pre>L = CE + μ · mean over heads, rows of (1 − H(A_h[CLS, ·]) / log T)</pre>
 *       so that no head can stay locked onto one token, as a trigger token would make it.</li>
 * </ol>
 */
public final class Pure implements Defense {

    /**
     * @param headsPerStep heads pruned per step
     * @param maxShare     never prune more than this share of all heads
     * @param floor        the largest drop of held-out accuracy accepted
     * @param heldOut      share of the clean set held out for that check
     * @param normWeight   μ
     */
    public record Settings(int headsPerStep, double maxShare, double floor, double heldOut, double normWeight, TrainConfig training) {
        public static Settings defaults(long seed) {
            return new Settings(2, 0.75, 0.02, 0.2, 1.0, Defense.baselineTraining(seed));
        }
    }

    private final Settings settings;

    public Pure(Settings settings) {
        this.settings = settings;
    }

    @Override
    public String name() {
        return "pure";
    }

    @Override
    public RepairOutcome apply(ModelStore.LoadedModel m, Dataset clean, NDManager root, Progress progress) {
        int layers = m.model().config().numHiddenLayers();
        int perLayer = m.model().config().numAttentionHeads();
        progress.stage("PURE: [CLS] attention variance of " + layers * perLayer + " heads on " + clean.size() + " clean texts");
        double[][] score = clsVariance(m, clean.texts(), root);
        List<HeadId> order = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            for (int h = 0; h < perLayer; h++) {
                order.add(new HeadId(l, h));
            }
        }
        order.sort(Comparator.comparingDouble(id -> score[id.layer()][id.head()]));
        Dataset check = clean.split(settings.heldOut(), settings.training().seed()).get(1);
        List<long[]> checkIds = m.tokenizer().idsOf(check.texts());
        long pad = m.tokenizer().padId();
        double base = Predictions.accuracy(m.model(), checkIds, check.labels(), pad, root, 64);
        int kept = 0;
        double keptAccuracy = base;
        List<HeadId> pruned;
        try (Pruning pruning = new Pruning(m.model(), root)) {
            for (int k = settings.headsPerStep(); k <= settings.maxShare() * order.size(); k += settings.headsPerStep()) {
                pruning.pruneHeads(order.subList(0, k));
                double acc = Predictions.accuracy(m.model(), checkIds, check.labels(), pad, root, 64);
                if (acc < base - settings.floor()) {
                    break;
                }
                kept = k;
                keptAccuracy = acc;
            }
            pruned = List.copyOf(order.subList(0, kept));
            pruning.pruneHeads(pruned);
            progress.stage(String.format(Locale.ROOT, "PURE: %d of %d heads pruned (held-out accuracy %.3f -> %.3f); fine-tuning with attention normalisation",
                    kept, order.size(), base, keptAccuracy));
            float[][] alive = new float[layers][perLayer];
            for (float[] row : alive) {
                java.util.Arrays.fill(row, 1f);
            }
            pruned.forEach(id -> alive[id.layer()][id.head()] = 0f);
            Trainer t = pruning.installGradientMasks(new Trainer(m.model(), pad, settings.training(), root), root)
                    .withForwardOptions(ForwardOptions.INFERENCE.withAttentions())
                    .withAuxiliaryLoss(new ClsNormalisation(alive, settings.normWeight()));
            try {
                t.train(m.tokenizer().idsOf(clean.texts()), clean.labels(), List.of(), new int[0], Trainer.TrainState.start(), progress);
            } finally {
                t.optimizer().close();
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("pruned_heads", pruned.stream().map(h -> h.layer() + ":" + h.head()).toList());
        out.put("held_out_accuracy_before", base);
        out.put("held_out_accuracy_pruned", keptAccuracy);
        out.put("norm_weight", settings.normWeight());
        out.put("training", settings.training());
        return new RepairOutcome.Plain(out);
    }

    /** Per head: the variance over real keys of its [CLS]-row attention, averaged over texts. [L][N] */
    static double[][] clsVariance(ModelStore.LoadedModel m, List<String> texts, NDManager root) {
        int layers = m.model().config().numHiddenLayers();
        int n = m.model().config().numAttentionHeads();
        double[][] sum = new double[layers][n];
        new BatchRunner(m, root, 64).run(texts, ForwardOptions.INFERENCE.withAttentions(), true, (rows, tb, in, out) -> {
            for (int l = 0; l < layers; l++) {
                float[] a = out.attentions().get(l).get(":, :, 0, :").toFloatArray(); // (B, N, T) [CLS] rows, padding 0
                int t = tb.length();
                for (int b = 0; b < tb.batch(); b++) {
                    int len = tb.lengths()[b];
                    for (int h = 0; h < n; h++) {
                        double sq = 0;
                        int off = (b * n + h) * t;
                        for (int j = 0; j < len; j++) {
                            sq += (double) a[off + j] * a[off + j];
                        }
                        sum[l][h] += sq / len - 1.0 / ((double) len * len); // E[a²] − E[a]², E[a] = 1/len
                    }
                }
            }
        });
        for (double[] row : sum) {
            for (int h = 0; h < n; h++) {
                row[h] /= Math.max(1, texts.size());
            }
        }
        return sum;
    }

    /** μ · mean over live heads and rows of (1 − H([CLS] row) / log T): 0 when every head's [CLS] attention is uniform. */
    static final class ClsNormalisation implements Trainer.AuxiliaryLoss {
        private final float[][] alive;
        private final float weight;

        ClsNormalisation(float[][] alive, double weight) {
            this.alive = alive;
            this.weight = (float) weight;
        }

        @Override
        public NDArray loss(int[] rows, TokenBatch batch, ModelOutput out, NDManager m) {
            int b = batch.batch();
            float[] logT = new float[b];
            for (int i = 0; i < b; i++) {
                logT[i] = (float) Math.log(Math.max(2, batch.lengths()[i]));
            }
            // Constants of the graph in PyTorch-owned memory (see Native): backward reads them.
            NDArray norm = Native.of(m, logT, new Shape(b, 1));
            NDArray eps = Native.scalar(m, 1e-12);
            NDArray one = Native.scalar(m, 1);
            NDArray total = null;
            float live = 0;
            for (int l = 0; l < alive.length; l++) {
                NDArray cls = out.attentions().get(l).get(":, :, 0, :");                             // (B, N, T)
                NDArray entropy = cls.mul(cls.add(eps).log()).sum(new int[] {2}).neg();             // (B, N)
                NDArray gap = one.sub(entropy.div(norm));                                           // (B, N)
                NDArray mask = Native.of(m, alive[l], new Shape(1, alive[l].length));
                NDArray s = gap.mul(mask).sum();
                total = total == null ? s : total.add(s);
                for (float v : alive[l]) {
                    live += v;
                }
            }
            return total.mul(Native.scalar(m, weight / Math.max(1f, live * b)));
        }
    }
}
