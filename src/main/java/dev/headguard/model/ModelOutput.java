package dev.headguard.model;

import ai.djl.ndarray.NDArray;

import java.util.List;

/**
 * What a forward pass returns. Every array belongs to the manager of the input ids, so closing
 * that (per-batch) manager frees all of them. Without training, autograd, a cache or a hidden shift the
 * layers skip padded tokens: padded positions' layer outputs and intermediates are then zero (the
 * embeddings' are not).
 * A real token's values do not depend on padding either way.
 *
 * @param lastHiddenState (B, T, E)
 * @param pooled          (B, E) tanh(W·h[CLS] + b); null when the model has no pooler
 * @param logits          (B, C); null when the model has no classification head
 * @param hiddenStates    L + 1 arrays of (B, T, E) when asked for, else empty
 * @param attentions      L arrays of (B, N, T, T) when asked for, else empty; rows and columns of
 *                        padding are zero, so each real query row sums to its head's scale
 * @param intermediates   L arrays of (B, T, I) feed-forward activations when asked for, else empty
 */
public record ModelOutput(NDArray lastHiddenState, NDArray pooled, NDArray logits, List<NDArray> hiddenStates, List<NDArray> attentions,
                         List<NDArray> intermediates) {
    public ModelOutput {
        intermediates = List.copyOf(intermediates);
        hiddenStates = List.copyOf(hiddenStates);
        attentions = List.copyOf(attentions);
    }
}
