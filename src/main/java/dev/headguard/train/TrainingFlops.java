package dev.headguard.train;

import dev.headguard.model.ModelConfig;

/** The arithmetic a training step does, for the throughput that progress and {@code bench train} report. */
final class TrainingFlops {
    private TrainingFlops() {}

    /**
     * Multiply-add FLOPs of one training step (forward + backward ≈ 3 × forward) on a (B, T)
     * batch: the dense layers 2·B·T·(4E² + 2EI) and attention 4·B·T²·E per layer, plus the pooler,
     * or for a language model trained as one (no classifier) the head over every position, 2·B·T·E·V.
     */
    static double of(ModelConfig c, int b, int t) {
        double e = c.hiddenSize();
        double i = c.intermediateSize();
        double perLayer = 2.0 * b * t * (4 * e * e + 2 * e * i) + 4.0 * b * t * t * e;
        double head = c.languageModel() && !c.hasClassifier() ? 2.0 * b * t * e * c.vocabSize() : 2.0 * b * e * e;
        return 3 * (c.numHiddenLayers() * perLayer + head);
    }
}
