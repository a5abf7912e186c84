package dev.headguard.repair;

import dev.headguard.train.Predictions;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.headguard.inference.BatchRunner;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Dataset;
import dev.headguard.train.TrainConfig;
import dev.headguard.train.Trainer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Baseline: fine-pruning (Liu et al., 2018), as it is carried over to transformers. Neurons of the
 * last layer's feed-forward block that stay dormant on clean data (lowest mean activation over
 * real tokens) are pruned, in steps, for as long as accuracy on a held-out part of the clean set
 * stays within {@code floor} of the unpruned model's; then every parameter is fine-tuned on the
 * whole clean set with the pruned neurons held at zero. The idea: a backdoor hides in capacity
 * clean inputs do not use.
 */
public final class FinePruning implements Defense {

    /**
     * @param layer      the feed-forward block to prune (-1: the last)
     * @param step       share of its neurons pruned per step
     * @param maxShare   never prune more than this share
     * @param floor      the largest drop of held-out accuracy accepted
     * @param heldOut    share of the clean set held out for that check
     */
    public record Settings(int layer, double step, double maxShare, double floor, double heldOut, TrainConfig training) {
        public static Settings defaults(long seed) {
            return new Settings(-1, 0.05, 0.9, 0.02, 0.2, Defense.baselineTraining(seed));
        }
    }

    private final Settings settings;

    public FinePruning(Settings settings) {
        this.settings = settings;
    }

    @Override
    public String name() {
        return "fineprune";
    }

    @Override
    public RepairOutcome apply(ModelStore.LoadedModel m, Dataset clean, NDManager root, Progress progress) {
        int layer = settings.layer() < 0 ? m.model().config().numHiddenLayers() - 1 : settings.layer();
        List<Dataset> parts = clean.split(settings.heldOut(), settings.training().seed());
        Dataset check = parts.get(1);
        progress.stage("fine-pruning: mean activations of layer " + layer + "'s feed-forward neurons on " + clean.size() + " clean texts");
        double[] mean = meanActivations(m, clean.texts(), layer, root);
        int[] order = IntStream.range(0, mean.length).boxed().sorted((a, b) -> Double.compare(mean[a], mean[b])).mapToInt(Integer::intValue).toArray();
        List<long[]> checkIds = m.tokenizer().idsOf(check.texts());
        long pad = m.tokenizer().padId();
        double base = Predictions.accuracy(m.model(), checkIds, check.labels(), pad, root, 64);
        int kept;
        double keptAccuracy;
        try (Pruning pruning = new Pruning(m.model(), root)) {
            Pruning.Kept k = pruning.pruneWhile(layer, order, settings.step(), settings.maxShare(), base,
                    () -> Predictions.accuracy(m.model(), checkIds, check.labels(), pad, root, 64), acc -> acc >= base - settings.floor());
            kept = k.neurons();
            keptAccuracy = k.quality();
            progress.stage(String.format(Locale.ROOT, "fine-pruning: %d of %d neurons pruned (held-out accuracy %.3f -> %.3f); fine-tuning all parameters",
                    kept, mean.length, base, keptAccuracy));
            Trainer t = pruning.installGradientMasks(new Trainer(m.model(), pad, settings.training(), root), root);
            try {
                t.train(m.tokenizer().idsOf(clean.texts()), clean.labels(), List.of(), new int[0], Trainer.TrainState.start(), progress);
            } finally {
                t.optimizer().close();
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("layer", layer);
        out.put("pruned_neurons", kept);
        out.put("neurons", mean.length);
        out.put("held_out_accuracy_before", base);
        out.put("held_out_accuracy_pruned", keptAccuracy);
        out.put("training", settings.training());
        return new RepairOutcome.Plain(out);
    }

    /** Mean activation of each feed-forward neuron of {@code layer} over the real tokens of {@code texts}. */
    static double[] meanActivations(ModelStore.LoadedModel m, List<String> texts, int layer, NDManager root) {
        double[] sum = new double[m.model().config().intermediateSize()];
        long[] tokens = {0};
        new BatchRunner(m, root, 64).run(texts, ForwardOptions.INFERENCE.withIntermediates(), true, (rows, tb, in, out) -> {
            NDArray mask = in.attentionMask().toType(ai.djl.ndarray.types.DataType.FLOAT32, false).expandDims(2); // (B, T, 1)
            float[] s = out.intermediates().get(layer).mul(mask).sum(new int[] {0, 1}).toFloatArray();        // (I)
            for (int i = 0; i < s.length; i++) {
                sum[i] += s[i];
            }
            for (int len : tb.lengths()) {
                tokens[0] += len;
            }
        });
        for (int i = 0; i < sum.length; i++) {
            sum[i] /= Math.max(1, tokens[0]);
        }
        return sum;
    }
}
