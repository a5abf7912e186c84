package dev.headguard.repair;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.PromptResponse;
import dev.headguard.text.ResponseEncoding;
import dev.headguard.text.TokenBatch;
import dev.headguard.train.ResponseLoss;
import dev.headguard.train.TrainConfig;
import dev.headguard.train.Trainer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * Baseline: fine-pruning (Liu et al., 2018) of a decoder, as {@link FinePruning} does it for a
 * classifier, with the response perplexity of a held-out part of the clean rows in place of accuracy:
 * the last layer's feed-forward neurons least active on the clean rows' tokens are pruned in steps for
 * as long as that perplexity stays within {@code floor} (relative) of the unpruned model's; then every
 * parameter is fine-tuned on all the clean rows with the response loss, the pruned neurons held at zero.
 * Activity is the mean |activation|: a SwiGLU block's silu(gate)·up is signed, and a large negative
 * mean is a neuron in use.
 */
public final class GenerationFinePruning implements GenerationDefense {

    /**
     * @param floor   the largest relative rise of held-out response perplexity accepted (0.02: 2%)
     * @param heldOut share of the clean rows held out for that check
     */
    public record Settings(int layer, double step, double maxShare, double floor, double heldOut, TrainConfig training) {
        public static Settings defaults(long seed) {
            return new Settings(-1, 0.05, 0.9, 0.02, 0.2, GenerationDefense.fineTuning(seed));
        }
    }

    private final Settings settings;

    public GenerationFinePruning(Settings settings) {
        this.settings = settings;
    }

    @Override
    public String name() {
        return "fineprune";
    }

    @Override
    public Map<String, Object> apply(ModelStore.LoadedModel m, List<PromptResponse> clean, NDManager root, Defense.Progress progress) {
        int layer = settings.layer() < 0 ? m.model().config().numHiddenLayers() - 1 : settings.layer();
        List<ResponseEncoding.Encoded> rows = ResponseEncoding.encode(m.tokenizer(), clean, m.model().config().decoder().eosTokenId()).rows();
        List<ResponseEncoding.Encoded> shuffled = new ArrayList<>(rows);
        Collections.shuffle(shuffled, new Random(settings.training().seed()));
        List<ResponseEncoding.Encoded> check = shuffled.subList(0, Math.max(1, (int) Math.round(settings.heldOut() * rows.size())));
        long pad = m.tokenizer().padId();
        progress.stage("fine-pruning: mean |activation| of layer " + layer + "'s feed-forward neurons on " + rows.size() + " clean rows");
        double[] activity = meanAbsActivations(m, rows, layer, root);
        int[] order = IntStream.range(0, activity.length).boxed().sorted((a, b) -> Double.compare(activity[a], activity[b])).mapToInt(Integer::intValue).toArray();
        double base = ResponseLoss.perplexity(m.model(), check, pad, root);
        int kept;
        double keptPerplexity;
        try (Pruning pruning = new Pruning(m.model(), root)) {
            Pruning.Kept k = pruning.pruneWhile(layer, order, settings.step(), settings.maxShare(), base,
                    () -> ResponseLoss.perplexity(m.model(), check, pad, root), ppl -> ppl <= base * (1 + settings.floor()));
            kept = k.neurons();
            keptPerplexity = k.quality();
            progress.stage(String.format(Locale.ROOT, "fine-pruning: %d of %d neurons pruned (held-out perplexity %.2f -> %.2f); fine-tuning all parameters",
                    kept, activity.length, base, keptPerplexity));
            Trainer t = pruning.installGradientMasks(new Trainer(m.model(), pad, settings.training(), root), root)
                    .withAuxiliaryLoss(ResponseLoss.asTrainingLoss(m.model(), rows));
            try {
                t.train(rows.stream().map(ResponseEncoding.Encoded::ids).toList(), ResponseLoss.unlabelled(rows.size()), List.of(), new int[0],
                        Trainer.TrainState.start(), progress);
            } finally {
                t.optimizer().close();
            }
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("layer", layer);
        out.put("pruned_neurons", kept);
        out.put("neurons", activity.length);
        out.put("held_out_perplexity_before", base);
        out.put("held_out_perplexity_pruned", keptPerplexity);
        out.put("training", settings.training());
        return out;
    }

    /** Mean |activation| of each feed-forward neuron of {@code layer} over the real tokens of {@code rows}. */
    static double[] meanAbsActivations(ModelStore.LoadedModel m, List<ResponseEncoding.Encoded> rows, int layer, NDManager root) {
        double[] sum = new double[m.model().config().intermediateSize()];
        long tokens = 0;
        for (int i = 0; i < rows.size(); i += 32) {
            List<long[]> part = rows.subList(i, Math.min(rows.size(), i + 32)).stream().map(ResponseEncoding.Encoded::ids).toList();
            TokenBatch batch = TokenBatch.of(part, m.tokenizer().padId());
            try (NDManager step = root.newSubManager()) {
                TokenBatch.Arrays in = batch.toArrays(step);
                NDArray inner = m.model().forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), ForwardOptions.INFERENCE.withIntermediates())
                        .intermediates().get(layer);                                                                  // (B, T, I)
                NDArray mask = in.attentionMask().toType(ai.djl.ndarray.types.DataType.FLOAT32, false).expandDims(2);  // (B, T, 1)
                float[] s = inner.abs().mul(mask).sum(new int[] {0, 1}).toFloatArray();
                for (int k = 0; k < s.length; k++) {
                    sum[k] += s[k];
                }
            }
            for (int len : batch.lengths()) {
                tokens += len;
            }
        }
        for (int k = 0; k < sum.length; k++) {
            sum[k] /= Math.max(1, tokens);
        }
        return sum;
    }
}
