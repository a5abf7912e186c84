package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.model.Family;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.BuiltinModel;
import dev.headguard.model.io.ModelStore;
import dev.headguard.train.Pretraining;
import dev.headguard.train.TrainConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "pretrain", description = {"Pretrain a small decoder (GPT-2 or Llama shape) from scratch on plain text: next-token prediction,",
        "with MiniLM's WordPiece vocabulary by default; reports the held-out perplexity."})
final class PretrainCommand implements Callable<Integer> {
    @Option(names = "--arch", defaultValue = "gpt2", description = "gpt2 or llama (default: ${DEFAULT-VALUE}).")
    String arch;

    @Option(names = "--corpus", required = true, split = ",", paramLabel = "FILE", description = {".txt files (a blank line ends a document) or data files",
            "with a 'sentence' column (each sentence a document); several: comma-separated or repeated."})
    List<Path> corpus;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "A WordPiece tokenizer.json (default: the built-in MiniLM's, 30,522 words).")
    Path tokenizer;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The pretrained model directory.")
    Path out;

    @Option(names = "--layers", defaultValue = "4", description = "Default: ${DEFAULT-VALUE}.")
    int layers;

    @Option(names = "--heads", defaultValue = "4", description = "Default: ${DEFAULT-VALUE}.")
    int heads;

    @Option(names = "--width", defaultValue = "128", description = "Hidden size (default: ${DEFAULT-VALUE}).")
    int width;

    @Option(names = "--context", defaultValue = "64", description = "Tokens per training window, and the model's positions (default: ${DEFAULT-VALUE}).")
    int context;

    @Option(names = "--steps", defaultValue = "900", description = "Optimisation steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--batch-size", defaultValue = "16", description = "Windows per step (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--lr", defaultValue = "2e-3", description = "Peak learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--held-out", defaultValue = "0.05", description = "Share of the token stream (its end) kept for the perplexity (default: ${DEFAULT-VALUE}).")
    double heldOut;

    @Option(names = "--checkpoint-every", defaultValue = "100", description = "Steps between checkpoints in OUT.checkpoint (default: ${DEFAULT-VALUE}).")
    int checkpointEvery;

    @Option(names = "--resume", description = "Continue from OUT.checkpoint, left by a run with the same settings and corpus that was stopped.")
    boolean resume;

    @Option(names = "--seed", defaultValue = "42", description = "Initial weights, windows and dropout (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() {
        Family family = switch (arch.toLowerCase(Locale.ROOT)) {
            case "gpt2" -> Family.GPT2;
            case "llama" -> Family.LLAMA;
            default -> throw new HeadGuardException("--arch must be gpt2 or llama (got '" + arch + "')");
        };
        OptionChecks.atLeast("--layers", layers, 1);
        OptionChecks.atLeast("--heads", heads, 1);
        OptionChecks.atLeast("--steps", steps, 1);
        OptionChecks.atLeast("--batch-size", batchSize, 1);
        OptionChecks.positive("--lr", lr);
        OptionChecks.atLeast("--checkpoint-every", checkpointEvery, 1);
        if (!(heldOut > 0 && heldOut < 0.5)) {
            throw new HeadGuardException("--held-out must be a share between 0 and 0.5 (got " + heldOut + ")");
        }
        Pretraining.Architecture a = new Pretraining.Architecture(family, layers, heads, width, context);
        ModelStore.checkOutputDirectory(out, "--out", null);
        if (resume && !java.nio.file.Files.isDirectory(dev.headguard.train.Checkpoint.dirFor(out))) {
            throw new HeadGuardException("--resume: no checkpoint at " + dev.headguard.train.Checkpoint.dirFor(out) + " to continue from");
        }
        for (Path c : corpus) {
            Pretraining.documents(c); // a missing or unreadable file is the user's error, said before any work
        }
        Path tok = tokenizer != null ? tokenizer : BuiltinModel.resolve("minilm").resolve(ModelStore.TOKENIZER);
        TrainConfig d = TrainConfig.defaults();
        TrainConfig train = new TrainConfig(1, batchSize, lr, d.weightDecay(), d.warmupRatio(), d.maxGradNorm(), seed, checkpointEvery);
        try (NDManager root = TorchRuntime.newManager()) {
            Pretraining.Result r = Pretraining.run(new Pretraining.Request(a, corpus, tok, steps, heldOut, train, out, resume), root, new ProgressBar());
            System.out.printf(Locale.ROOT, "wrote %s: %s, %d training tokens, %d steps at %.0f tokens/s (%.0f s in all); held-out perplexity %.1f (%.1f at"
                    + " initialisation, %d tokens)%n", out, family.modelType, r.trainTokens(), r.stepsTrained(), (double) r.stepsTrained() * batchSize * context / r.trainingSeconds(),
                    r.seconds(), r.perplexityAfter(), r.perplexityBefore(), r.heldOutTokens());
        }
        return 0;
    }
}
