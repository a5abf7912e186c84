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
 * @param shiftLayer     the hidden state {@code shift} is added to: 0 the embeddings' output, l the output of
 *                       layer l (1-based, as in {@link ModelOutput#hiddenStates}); −1: none
 * @param shift          (E), (B, E) one per text, or (B, T, E) one per token: added to every real token's hidden state at
 *                       {@code shiftLayer}, a universal perturbation of the hidden space (it may require a
 *                       gradient, to search for the one that moves the predictions most). Null: none.
 */
public record ForwardOptions(boolean attentions, boolean hiddenStates, NDArray headScale, Set<HeadId> trainableHeads, boolean training,
                             boolean intermediates, int shiftLayer, NDArray shift) {

    /** Plain inference: last hidden state, pooled output and logits only. */
    public static final ForwardOptions INFERENCE = new ForwardOptions(false, false, null, null, false, false, -1, null);

    public ForwardOptions {
        trainableHeads = trainableHeads == null ? null : Set.copyOf(trainableHeads);
        if ((shift == null) != (shiftLayer < 0)) {
            throw new IllegalArgumentException("a hidden shift needs both a layer and a vector (layer " + shiftLayer + ")");
        }
    }

    public ForwardOptions(boolean attentions, boolean hiddenStates, NDArray headScale, Set<HeadId> trainableHeads, boolean training,
                          boolean intermediates) {
        this(attentions, hiddenStates, headScale, trainableHeads, training, intermediates, -1, null);
    }

    /** The same options with {@code shift} added to every real token's hidden state {@code layer} (0: the embeddings' output). */
    public ForwardOptions withHiddenShift(int layer, NDArray shift) {
        return new ForwardOptions(attentions, hiddenStates, headScale, trainableHeads, training, intermediates, layer, shift);
    }

    public ForwardOptions withAttentions() {
        return new ForwardOptions(true, hiddenStates, headScale, trainableHeads, training, intermediates, shiftLayer, shift);
    }

    public ForwardOptions withHiddenStates() {
        return new ForwardOptions(attentions, true, headScale, trainableHeads, training, intermediates, shiftLayer, shift);
    }

    public ForwardOptions withHeadScale(NDArray scale) {
        return new ForwardOptions(attentions, hiddenStates, scale, trainableHeads, training, intermediates, shiftLayer, shift);
    }

    public ForwardOptions withTrainableHeads(Set<HeadId> heads) {
        return new ForwardOptions(attentions, hiddenStates, headScale, heads, training, intermediates, shiftLayer, shift);
    }

    public ForwardOptions withIntermediates() {
        return new ForwardOptions(attentions, hiddenStates, headScale, trainableHeads, training, true, shiftLayer, shift);
    }

    public ForwardOptions withTraining(boolean on) {
        return new ForwardOptions(attentions, hiddenStates, headScale, trainableHeads, on, intermediates, shiftLayer, shift);
    }
}
