package dev.headguard.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.norm.LayerNorm;

/** The layer operations the modules share, as transformers computes them in float32. */
final class Ops {
    private Ops() {}

    static NDArray dropout(NDArray x, double p, boolean training) {
        return training && p > 0 ? Dropout.dropout(x, (float) p, true).singletonOrThrow() : x;
    }

    /** x·Wᵀ + b; b may be null. */
    static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        return Linear.linear(x, weight, bias).singletonOrThrow();
    }

    static NDArray layerNorm(NDArray x, NDArray gamma, NDArray beta, double eps) {
        return LayerNorm.layerNorm(x, new Shape(x.getShape().get(x.getShape().dimension() - 1)), gamma, beta, (float) eps).singletonOrThrow();
    }

    /** RMSNorm (Llama): γ · x / √(mean(x²) + ε). */
    static NDArray rmsNorm(NDArray x, NDArray gamma, double eps) {
        NDArray meanSquare = x.mul(x).mean(new int[] {-1}, true);
        NDArray normed = x.div(meanSquare.add(Native.scalar(x.getManager(), eps)).sqrt());
        return Native.recording() ? normed.mul(gamma) : normed.muli(gamma);
    }

    // While autograd does not record (Native.recording), a fresh intermediate may be overwritten in place: the
    // same values, one (B, T, I) or (B, N, T, keys) buffer fewer to allocate and fill. Recorded, backward needs the originals.

    /** SwiGLU's silu(gate) ⊙ up (the Llama family's feed-forward); {@code gate} and {@code up} are fresh products. */
    static NDArray swiGlu(NDArray gate, NDArray up) {
        if (Native.recording()) {
            return activation("silu", gate).mul(up);
        }
        return Activation.sigmoid(gate).muli(gate).muli(up); // sigmoid(g)·g = g·sigmoid(g) bit for bit
    }

    /** {@code fresh} · b, in place without autograd. */
    static NDArray times(NDArray fresh, NDArray b) {
        return Native.recording() ? fresh.mul(b) : fresh.muli(b);
    }

    /** {@code fresh} + b, in place without autograd. */
    static NDArray plus(NDArray fresh, NDArray b) {
        return Native.recording() ? fresh.add(b) : fresh.addi(b);
    }

    /** A config's activation by HuggingFace's name. */
    static NDArray activation(String name, NDArray x) {
        NDManager m = x.getManager();
        return switch (name) {
            case "gelu" -> Activation.gelu(x); // PyTorch's exact erf form, as HuggingFace's "gelu"
            case "gelu_new" -> {
                // 0.5·x·(1 + tanh(z)) = x·sigmoid(2z), z = √(2/π)·(x + 0.044715·x³): two fewer passes over (B, T, I)
                if (Native.recording()) {
                    NDArray cube = x.mul(x).mul(x);
                    NDArray twoZ = cube.mul(Native.scalar(m, 0.044715)).add(x).mul(Native.scalar(m, 2 * Math.sqrt(2 / Math.PI)));
                    yield x.mul(Activation.sigmoid(twoZ));
                }
                NDArray twoZ = x.mul(x).muli(x).muli(Native.scalar(m, 0.044715)).addi(x).muli(Native.scalar(m, 2 * Math.sqrt(2 / Math.PI)));
                yield Activation.sigmoid(twoZ).muli(x); // the same operations in the same order, two buffers instead of seven
            }
            case "relu" -> Activation.relu(x);
            case "silu" -> x.mul(Activation.sigmoid(x));
            case "tanh" -> x.tanh();
            default -> throw new IllegalStateException(name);
        };
    }
}
