package dev.headguard.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import dev.headguard.model.HostTensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter), as {@code torch.optim.AdamW}:
 * <pre>
 *   m ← β1·m + (1−β1)·g            v ← β2·v + (1−β2)·g²
 *   θ ← θ·(1 − lr·λ)               θ ← θ − lr · (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε)
 * </pre>
 * Weight decay λ is skipped for biases and LayerNorm parameters, as HuggingFace's trainer does.
 * State arrays live in the optimizer's own manager, created on a parameter's first update.
 */
public final class AdamW implements AutoCloseable {
    private final NDManager manager;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final Map<String, NDArray> m = new LinkedHashMap<>();
    private final Map<String, NDArray> v = new LinkedHashMap<>();
    private final Map<String, boolean[]> touched = new LinkedHashMap<>(); // per row-tracked parameter: rows that ever had a gradient
    private long step;

    public AdamW(NDManager parent, double beta1, double beta2, double eps, double weightDecay) {
        this.manager = parent.newSubManager();
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /** HuggingFace's defaults: β = (0.9, 0.999), ε = 1e-8 (torch) and the given decay. */
    public static AdamW standard(NDManager parent, double weightDecay) {
        return new AdamW(parent, 0.9, 0.999, 1e-8, weightDecay);
    }

    public static boolean decays(String name) {
        return !(name.endsWith(".bias") || name.contains("LayerNorm"));
    }

    /** Advances the step counter; call once per optimisation step, before the updates. */
    public void beginStep() {
        step++;
    }

    public long step() {
        return step;
    }

    /**
     * Updates {@code weight} in place from {@code grad}, which it overwrites (the step is memory-bound,
     * so every array it need not allocate counts). Must run with autograd off (outside a GradientCollector).
     */
    public void update(String name, NDArray weight, NDArray grad, double lr) {
        NDArray mState = m.computeIfAbsent(name, k -> state(weight));
        NDArray vState = v.computeIfAbsent(name, k -> state(weight));
        try (NDScope scope = new NDScope()) {
            if (weightDecay > 0 && decays(name)) {
                weight.muli((float) (1 - lr * weightDecay));
            }
            weight.subi(step(mState, vState, grad, lr));
        }
    }

    /**
     * As {@link #update(String, NDArray, NDArray, double)} for a matrix most of whose rows have no
     * gradient (a word embedding: a batch uses a few hundred of its tens of thousands of rows), scaling
     * the gradient by {@code clip} first. A row that never had a gradient has both moments exactly 0,
     * so AdamW only decays it; the moments and the step are computed on the rows that ever had one,
     * with the same operations, so the result is the dense update's to the bit, at a fraction of its
     * passes over memory. When most rows have had a gradient, the dense update runs.
     *
     * @param rowsWithGradient per row, whether this step's gradient is non-zero there (the Trainer reads it
     *                         from the squares its norm computes: a row whose every entry is under about
     *                         1e-22 squares to 0 and counts as none, a step no float weight could show)
     */
    public void updateRows(String name, NDArray weight, NDArray grad, double clip, boolean[] rowsWithGradient, double lr) {
        boolean[] ever = touched.computeIfAbsent(name, k -> rowsEverTouched(name, rowsWithGradient.length));
        int count = 0;
        for (int r = 0; r < ever.length; r++) {
            ever[r] |= rowsWithGradient[r];
            count += ever[r] ? 1 : 0;
        }
        if (count > ever.length / 2) {
            update(name, weight, clip == 1.0 ? grad : grad.muli((float) clip), lr);
            return;
        }
        long[] rows = new long[count];
        for (int r = 0, k = 0; r < ever.length; r++) {
            if (ever[r]) {
                rows[k++] = r;
            }
        }
        NDArray mState = m.computeIfAbsent(name, k -> state(weight));
        NDArray vState = v.computeIfAbsent(name, k -> state(weight));
        try (NDScope scope = new NDScope()) {
            NDIndex at = new NDIndex("{}", weight.getManager().create(rows));
            NDArray g = grad.get(at);
            NDArray mRows = mState.get(at);
            NDArray vRows = vState.get(at);
            NDArray change = step(mRows, vRows, clip == 1.0 ? g : g.muli((float) clip), lr);
            mState.set(at, mRows);
            vState.set(at, vRows);
            if (weightDecay > 0 && decays(name)) {
                weight.muli((float) (1 - lr * weightDecay));
            }
            weight.set(at, weight.get(at).subi(change));
        }
    }

    /** The moments' update in place and the change to subtract from the weight: θ −= lr/c1 · m / (√v / √c2 + ε). */
    private NDArray step(NDArray mState, NDArray vState, NDArray grad, double lr) {
        vState.muli((float) beta2).addi(grad.square().muli((float) (1 - beta2)));
        mState.muli((float) beta1).addi(grad.muli((float) (1 - beta1)));
        double c1 = 1 - Math.pow(beta1, step);
        double c2 = 1 - Math.pow(beta2, step);
        NDArray denom = vState.sqrt().divi((float) Math.sqrt(c2)).addi((float) eps);
        return mState.div(denom).muli((float) (lr / c1));
    }

    /** Rows whose moments are non-zero (after a restore), or none. */
    private boolean[] rowsEverTouched(String name, int rows) {
        NDArray mState = m.get(name);
        if (mState == null) {
            return new boolean[rows];
        }
        try (NDScope scope = new NDScope()) {
            return mState.abs().add(v.get(name).abs()).sum(new int[] {1}).gt(0).toBooleanArray();
        }
    }

    private NDArray state(NDArray like) {
        NDArray z = manager.zeros(like.getShape(), like.getDataType());
        NDScope.unregister(z);
        return z;
    }

    /** First and second moments by "m."/"v." + parameter name, and the step, for a checkpoint. */
    public Map<String, HostTensor> stateTensors() {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        m.forEach((k, a) -> out.put("m." + k, HostTensor.ofFloats(a.toFloatArray(), a.getShape().getShape())));
        v.forEach((k, a) -> out.put("v." + k, HostTensor.ofFloats(a.toFloatArray(), a.getShape().getShape())));
        return out;
    }

    /** Restores {@link #stateTensors()} and the step count. */
    public void restore(Map<String, HostTensor> state, long steps) {
        touched.clear();
        state.forEach((k, t) -> {
            NDArray a = manager.create(t.toFloats(), new ai.djl.ndarray.types.Shape(t.shape()));
            NDScope.unregister(a);
            (k.startsWith("m.") ? m : v).put(k.substring(2), a);
        });
        this.step = steps;
    }

    @Override
    public void close() {
        manager.close();
    }
}
