package dev.headguard.cli;

import dev.headguard.text.Dataset;
import dev.headguard.train.TrainConfig;
import picocli.CommandLine.Option;

/** Settings of a fine-tuning run, shared by train and attack. */
final class TrainOptions {
    @Option(names = "--epochs", defaultValue = "3", description = "Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--seed", defaultValue = "42", description = "Shuffling, dropout and new weights (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--batch-size", defaultValue = "32", description = "Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--lr", defaultValue = "5e-5", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--train-limit", defaultValue = "0", description = "Use a seeded random subset of N training rows (0: all).")
    int trainLimit;

    @Option(names = "--checkpoint-every", defaultValue = "100", description = "Steps between checkpoints, besides each epoch's end; 0: only at each epoch's end (default: ${DEFAULT-VALUE}).")
    int checkpointEvery;

    @Option(names = "--resume", description = "Continue from OUT.checkpoint, left by a run that was stopped.")
    boolean resume;

    /** The settings, each option checked by name (before any data or model is read). */
    TrainConfig config() {
        OptionChecks.atLeast("--epochs", epochs, 1);
        OptionChecks.atLeast("--batch-size", batchSize, 1);
        OptionChecks.positive("--lr", lr);
        OptionChecks.atLeast("--train-limit", trainLimit, 0);
        OptionChecks.atLeast("--checkpoint-every", checkpointEvery, 0);
        TrainConfig d = TrainConfig.defaults();
        return new TrainConfig(epochs, batchSize, lr, d.weightDecay(), d.warmupRatio(), d.maxGradNorm(), seed, checkpointEvery);
    }

    Dataset limit(Dataset d) {
        return trainLimit > 0 ? d.sample(trainLimit, seed) : d;
    }

    <T> java.util.List<T> limit(java.util.List<T> rows) {
        return trainLimit > 0 ? Dataset.sampled(rows, trainLimit, seed) : rows;
    }
}
