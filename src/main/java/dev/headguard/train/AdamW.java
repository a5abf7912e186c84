package dev.headguard.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
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
        long[] ever = rowsEver(name, rowsWithGradient);
        if (ever == null) {
            update(name, weight, clip == 1.0 ? grad : grad.muli((float) clip), lr);
            return;
        }
        try (NDScope scope = new NDScope()) {
            updateEver(name, weight, ever, grad.get(new NDIndex("{}", weight.getManager().create(ever))), clip, lr);
        }
    }

    /**
     * As {@link #updateRows(String, NDArray, NDArray, double, boolean[], double)} for a gradient given
     * on {@code rows} only (ascending, distinct; {@code rowGrad} (rows, W)): every other row's is 0. The
     * same operations on the same values, so the same result, without a (V, W) gradient.
     *
     * @param nonZero per entry of {@code rows}, whether its gradient is non-zero (as {@code rowsWithGradient})
     */
    public void updateRows(String name, NDArray weight, long[] rows, NDArray rowGrad, double clip, boolean[] nonZero, double lr) {
        int vocab = (int) weight.getShape().get(0);
        boolean[] reached = new boolean[vocab];
        for (int k = 0; k < rows.length; k++) {
            reached[(int) rows[k]] = nonZero[k];
        }
        long[] ever = rowsEver(name, reached);
        try (NDScope scope = new NDScope()) {
            // Each non-zero row's gradient goes to its place among the rows updated (all of them, or those ever reached).
            int n = 0;
            long[] given = new long[rows.length];
            long[] at = new long[rows.length];
            for (int k = 0; k < rows.length; k++) {
                if (nonZero[k]) {
                    given[n] = k;
                    at[n++] = ever == null ? rows[k] : java.util.Arrays.binarySearch(ever, rows[k]);
                }
            }
            given = java.util.Arrays.copyOf(given, n);
            at = java.util.Arrays.copyOf(at, n);
            NDManager mm = weight.getManager();
            NDArray g = mm.zeros(new Shape(ever == null ? vocab : ever.length, weight.getShape().get(1)), weight.getDataType());
            if (n > 0) {
                g.set(new NDIndex("{}", mm.create(at)), rowGrad.get(new NDIndex("{}", mm.create(given))));
            }
            if (ever == null) {
                update(name, weight, clip == 1.0 ? g : g.muli((float) clip), lr);
            } else {
                updateEver(name, weight, ever, g, clip, lr);
            }
        }
    }

    /** Marks the rows reached this step; the rows that ever had a gradient, ascending, or null once most have (the dense update then). */
    private long[] rowsEver(String name, boolean[] rowsWithGradient) {
        boolean[] ever = touched.computeIfAbsent(name, k -> rowsEverTouched(name, rowsWithGradient.length));
        int count = 0;
        for (int r = 0; r < ever.length; r++) {
            ever[r] |= rowsWithGradient[r];
            count += ever[r] ? 1 : 0;
        }
        if (count > ever.length / 2) {
            return null;
        }
        long[] rows = new long[count];
        for (int r = 0, k = 0; r < ever.length; r++) {
            if (ever[r]) {
                rows[k++] = r;
            }
        }
        return rows;
    }

    /** The update of the rows {@code ever}, from their gradient {@code g} (ever.length, W), which it overwrites. */
    private void updateEver(String name, NDArray weight, long[] ever, NDArray g, double clip, double lr) {
        NDArray mState = m.computeIfAbsent(name, k -> state(weight));
        NDArray vState = v.computeIfAbsent(name, k -> state(weight));
        NDIndex at = new NDIndex("{}", weight.getManager().create(ever));
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
