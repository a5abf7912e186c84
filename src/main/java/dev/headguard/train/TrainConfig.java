package dev.headguard.train;

/**
 * Fine-tuning settings; defaults follow common BERT fine-tuning practice for SST-2-sized data.
 *
 * @param epochs          passes over the training set
 * @param batchSize       examples per step
 * @param learningRate    peak rate of the linear schedule
 * @param weightDecay     decoupled decay (not on biases and LayerNorm)
 * @param warmupRatio     share of all steps spent warming up
 * @param maxGradNorm     global-norm clipping threshold (0: off)
 * @param seed            shuffling, dropout and new weights all derive from it
 * @param checkpointEvery also checkpoint every this many steps (0: only at the end of each epoch)
 */
public record TrainConfig(int epochs, int batchSize, double learningRate, double weightDecay, double warmupRatio,
                          double maxGradNorm, long seed, int checkpointEvery) {
    public TrainConfig {
        if (epochs < 1 || batchSize < 1 || !(learningRate > 0) || Double.isInfinite(learningRate) || !(weightDecay >= 0) || !(warmupRatio >= 0)
                || warmupRatio > 1 || !(maxGradNorm >= 0) || checkpointEvery < 0) {
            // the fields are not assigned yet in a compact constructor: name the arguments
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                    "invalid training settings: epochs %d, batch size %d, learning rate %s, weight decay %s, warm-up %s, gradient norm %s, checkpoint every %d",
                    epochs, batchSize, learningRate, weightDecay, warmupRatio, maxGradNorm, checkpointEvery));
        }
    }

    public static TrainConfig defaults() {
        return new TrainConfig(3, 32, 5e-5, 0.01, 0.06, 1.0, 42, 0);
    }

    public TrainConfig withEpochs(int e) {
        return new TrainConfig(e, batchSize, learningRate, weightDecay, warmupRatio, maxGradNorm, seed, checkpointEvery);
    }

    public TrainConfig withSeed(long s) {
        return new TrainConfig(epochs, batchSize, learningRate, weightDecay, warmupRatio, maxGradNorm, s, checkpointEvery);
    }

    public TrainConfig withLearningRate(double lr) {
        return new TrainConfig(epochs, batchSize, lr, weightDecay, warmupRatio, maxGradNorm, seed, checkpointEvery);
    }

    public TrainConfig withBatchSize(int b) {
        return new TrainConfig(epochs, b, learningRate, weightDecay, warmupRatio, maxGradNorm, seed, checkpointEvery);
    }

    public TrainConfig withCheckpointEvery(int steps) {
        return new TrainConfig(epochs, batchSize, learningRate, weightDecay, warmupRatio, maxGradNorm, seed, steps);
    }
}
