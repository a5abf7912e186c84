package dev.headguard.model;

import ai.djl.ndarray.NDArray;

import java.util.Set;

/**
 * What a forward pass returns and how it treats heads.
 *
 * @param attentions     return every layer's attention probabilities, (B, N, T, T) each
 * @param hiddenStates   return the embeddings' output and every layer's output, (B, T, E) each
 * @param headScale      (L, N) multipliers on each head's attention probabilities, as HuggingFace's
 *                       {@code head_mask}: 0 silences a head, 1 leaves it. May require a gradient, to
 *                       measure a head's importance as dLoss/dScale. Null: all ones.
 * @param trainableHeads when non-null, gradients reach only these heads' slices of the attention
 *                       weights (Q/K/V rows and biases, output-projection columns); every other
 *                       slice of those weights is frozen. Null: no restriction.
 * @param training       apply dropout (as configured) for fine-tuning
 * @param intermediates  return every layer's feed-forward activations, (B, T, I) each (fine-pruning
 *                       ranks neurons by them)
 */
public record ForwardOptions(boolean attentions, boolean hiddenStates, NDArray headScale, Set<HeadId> trainableHeads, boolean training,
                             boolean intermediates) {

    /** Plain inference: last hidden state, pooled output and logits only. */
    public static final ForwardOptions INFERENCE = new ForwardOptions(false, false, null, null, false, false);

    public ForwardOptions {
        trainableHeads = trainableHeads == null ? null : Set.copyOf(trainableHeads);
    }

    public ForwardOptions withAttentions() {
        return new ForwardOptions(true, hiddenStates, headScale, trainableHeads, training, intermediates);
    }

    public ForwardOptions withHiddenStates() {
        return new ForwardOptions(attentions, true, headScale, trainableHeads, training, intermediates);
    }

    public ForwardOptions withHeadScale(NDArray scale) {
        return new ForwardOptions(attentions, hiddenStates, scale, trainableHeads, training, intermediates);
    }

    public ForwardOptions withTrainableHeads(Set<HeadId> heads) {
        return new ForwardOptions(attentions, hiddenStates, headScale, heads, training, intermediates);
    }

    public ForwardOptions withIntermediates() {
        return new ForwardOptions(attentions, hiddenStates, headScale, trainableHeads, training, true);
    }

    public ForwardOptions withTraining(boolean on) {
        return new ForwardOptions(attentions, hiddenStates, headScale, trainableHeads, on, intermediates);
    }
}
