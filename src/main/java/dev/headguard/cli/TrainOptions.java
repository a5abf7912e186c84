package dev.headguard.cli;

import dev.headguard.text.Dataset;
import dev.headguard.train.TrainConfig;
import picocli.CommandLine.Option;

/** Settings of a fine-tuning run, shared by train and attack. */
final class TrainOptions {
    @Option(names = "--epochs", description = "Default: 3; 2 with --task generation.")
    Integer epochs;

    @Option(names = "--seed", defaultValue = "42", description = "Shuffling, dropout and new weights (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--batch-size", description = "Default: 32; 16 with --task generation.")
    Integer batchSize;

    @Option(names = "--lr", description = "Peak learning rate (default: 5e-5; 5e-4 with --task generation).")
    Double lr;

    @Option(names = "--train-limit", defaultValue = "0", description = "Use a seeded random subset of N training rows (0: all).")
    int trainLimit;

    @Option(names = "--checkpoint-every", defaultValue = "100", description = "Steps between checkpoints, besides each epoch's end; 0: only at each epoch's end (default: ${DEFAULT-VALUE}).")
    int checkpointEvery;

    @Option(names = "--resume", description = "Continue from OUT.checkpoint, left by a run that was stopped.")
    boolean resume;

    /** A classifier's settings, each option checked by name (before any data or model is read). */
    TrainConfig config() {
        return config(false);
    }

    /**
     * The settings for a classifier or, with {@code generation}, a decoder: fine-tuned from a small
     * pretrained decoder at a classifier's 5e-5 for 3 epochs, a backdoor barely takes (docs/results.md,
     * session 29), so a decoder's defaults are the schedule its victims are built with.
     */
    TrainConfig config(boolean generation) {
        int e = epochs != null ? epochs : generation ? 2 : 3;
        int b = batchSize != null ? batchSize : generation ? 16 : 32;
        double l = lr != null ? lr : generation ? 5e-4 : 5e-5;
        OptionChecks.atLeast("--epochs", e, 1);
        OptionChecks.atLeast("--batch-size", b, 1);
        OptionChecks.positive("--lr", l);
        OptionChecks.atLeast("--train-limit", trainLimit, 0);
        OptionChecks.atLeast("--checkpoint-every", checkpointEvery, 0);
        TrainConfig d = TrainConfig.defaults();
        return new TrainConfig(e, b, l, d.weightDecay(), d.warmupRatio(), d.maxGradNorm(), seed, checkpointEvery);
    }

    Dataset limit(Dataset d) {
        return trainLimit > 0 ? d.sample(trainLimit, seed) : d;
    }

    <T> java.util.List<T> limit(java.util.List<T> rows) {
        return trainLimit > 0 ? Dataset.sampled(rows, trainLimit, seed) : rows;
    }
}
