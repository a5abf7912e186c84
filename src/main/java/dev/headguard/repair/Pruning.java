package dev.headguard.repair;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.headguard.model.BertKeys;
import dev.headguard.model.TransformerModel;
import dev.headguard.model.HeadId;
import dev.headguard.model.Native;
import dev.headguard.train.Trainer;

import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Removes attention heads or feed-forward neurons from a model by zeroing the weights that carry
 * their output, and keeps them removed through later fine-tuning.
 * <ul>
 *   <li>a head: its columns of the attention output projection (what reads the head's context);</li>
 *   <li>a feed-forward neuron: its row of the intermediate dense weight and its bias, so that its
 *       activation is act(0) = 0 for GELU and ReLU.</li>
 * </ul>
 * The same 0/1 masks multiply the gradients ({@link #installGradientMasks}); Adam's update of an
 * entry whose gradient is always 0 is 0, and decoupled weight decay keeps 0 at 0, so a pruned unit
 * stays pruned.
 *
 * <p>Trials (prune k units, measure, undo) restore from a copy of the original weights taken on
 * the first change, so that trying many k never compounds.
 */
public final class Pruning implements AutoCloseable {
    private final TransformerModel model;
    private final NDManager manager;
    private final Map<String, NDArray> originals = new LinkedHashMap<>();
    private final Map<String, Mask> masks = new LinkedHashMap<>();

    private record Mask(float[] values, Shape shape) {}

    public Pruning(TransformerModel model, NDManager root) {
        this.model = model;
        this.manager = root.newSubManager();
    }

    static String outputProjection(int layer) {
        return BertKeys.of(layer, BertKeys.ATTENTION_OUTPUT, BertKeys.WEIGHT);
    }

    static String intermediateWeight(int layer) {
        return BertKeys.of(layer, BertKeys.INTERMEDIATE, BertKeys.WEIGHT);
    }

    static String intermediateBias(int layer) {
        return BertKeys.of(layer, BertKeys.INTERMEDIATE, BertKeys.BIAS);
    }

    /** Sets the pruned heads to exactly {@code heads} (every other head restored). */
    public void pruneHeads(Collection<HeadId> heads) {
        int e = model.config().hiddenSize();
        int h = model.config().headSize();
        for (int l = 0; l < model.config().numHiddenLayers(); l++) {
            float[] cols = new float[e];
            Arrays.fill(cols, 1f);
            for (HeadId id : heads) {
                if (id.layer() == l) {
                    Arrays.fill(cols, id.head() * h, (id.head() + 1) * h, 0f);
                }
            }
            apply(outputProjection(l), cols, new Shape(1, e));
        }
    }

    /** Sets the pruned neurons of {@code layer}'s feed-forward block to exactly {@code neurons}. */
    public void pruneNeurons(int layer, int[] neurons) {
        int n = model.config().intermediateSize();
        float[] rows = new float[n];
        Arrays.fill(rows, 1f);
        for (int i : neurons) {
            rows[i] = 0f;
        }
        apply(intermediateWeight(layer), rows, new Shape(n, 1));
        apply(intermediateBias(layer), rows, new Shape(n));
    }

    /** How many neurons a {@link #pruneWhile} kept pruned, and the quality measured with them pruned. */
    public record Kept(int neurons, double quality) {}

    /**
     * Fine-pruning's search: prunes the first k of {@code order} (dormant first) for k = step, 2·step, ...
     * up to {@code maxShare} of the layer, for as long as {@code quality} (measured after each step) is
     * {@code acceptable}; leaves the largest accepted k pruned.
     *
     * @param unpruned the quality before any pruning, returned when no step is accepted
     */
    public Kept pruneWhile(int layer, int[] order, double step, double maxShare, double unpruned, java.util.function.DoubleSupplier quality,
                           java.util.function.DoublePredicate acceptable) {
        int stepSize = Math.max(1, (int) Math.round(step * order.length));
        int kept = 0;
        double keptQuality = unpruned;
        for (int k = stepSize; k <= maxShare * order.length; k += stepSize) {
            pruneNeurons(layer, Arrays.copyOf(order, k));
            double q = quality.getAsDouble();
            if (!acceptable.test(q)) {
                break;
            }
            kept = k;
            keptQuality = q;
        }
        pruneNeurons(layer, Arrays.copyOf(order, kept));
        return new Kept(kept, keptQuality);
    }

    /** Weight = original × mask; a mask of all ones is recorded only if the weight was changed before. */
    private void apply(String name, float[] mask, Shape shape) {
        boolean identity = true;
        for (float v : mask) {
            identity &= v == 1f;
        }
        if (identity && !originals.containsKey(name)) {
            return;
        }
        NDArray p = model.parameters().get(name);
        if (p == null) {
            return; // a weight this family does not have (the Llama family's feed-forward has no biases)
        }
        NDArray original = originals.computeIfAbsent(name, k -> {
            NDArray copy = p.duplicate();
            copy.attach(manager);
            return copy;
        });
        try (NDScope ignored = new NDScope(); NDManager m = manager.newSubManager()) {
            p.set(new NDIndex(":"), original.mul(Native.of(m, mask, shape)));
        }
        masks.put(name, new Mask(mask.clone(), shape));
    }

    /** The same masks on the gradients of a trainer, so that fine-tuning keeps pruned units at 0. */
    public Trainer installGradientMasks(Trainer t, NDManager root) {
        for (Map.Entry<String, Mask> e : masks.entrySet()) {
            t.withGradientMask(e.getKey(), Native.of(root, e.getValue().values(), e.getValue().shape()));
        }
        return t;
    }

    @Override
    public void close() {
        manager.close();
    }
}
