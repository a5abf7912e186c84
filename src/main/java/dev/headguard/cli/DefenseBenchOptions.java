package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.bench.DefenseBenchmark;
import dev.headguard.bench.DefenseBenchmarkFiles;
import dev.headguard.bench.GenerationBenchmark;
import dev.headguard.bench.Victims;
import dev.headguard.model.TorchRuntime;
import dev.headguard.repair.Defense;
import dev.headguard.text.BenchmarkData;
import dev.headguard.train.TrainConfig;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/** The options and the run of an attacks × defenses benchmark: shared by {@code bench} and {@code demo}. */
final class DefenseBenchOptions {
    @Option(names = "--dataset", defaultValue = "sst-2", description = "sst-2, offenseval, or a folder of your own in their layout (clean/train.tsv, dev.tsv, test.tsv) (default: ${DEFAULT-VALUE}).")
    String dataset;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Where the benchmark data lives (default: ../shared/data).")
    Path dataDir;

    @Option(names = "--victims", paramLabel = "DIR", description = "Victims per attack (DIR/<attack>) and the clean model (DIR/clean); existing ones are reused (default: OUT/victims).")
    Path victims;

    @Option(names = "--train-limit", defaultValue = "-1", description = "Training rows per victim (default: all; 2000 with --quick).")
    int trainLimit;

    @Option(names = "--epochs", defaultValue = "-1", description = "Victim training epochs (default: 3).")
    int epochs;

    @Option(names = "--test-limit", defaultValue = "-1", description = "Test rows evaluated (default: all; 300 with --quick).")
    int testLimit;

    @Option(names = "--clean-budget", defaultValue = "0.1", description = "The defenders' clean set as a share of the training rows (default: ${DEFAULT-VALUE}).")
    double cleanBudget;

    @Option(names = "--no-floor", description = "Skip the clean model (no ASR floor).")
    boolean noFloor;

    @Option(names = "--seed", defaultValue = "42", description = "Clean budget and defenses, and victims unless --victim-seed is given (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--victim-seed", paramLabel = "N", description = "Poisoning and training of victims that are built (default: --seed). "
            + "A reused victim keeps the seed its manifest records: its suspects and triggered test set are rebuilt with it.")
    Long victimSeed;

    /** Runs and writes OUT/bench.md, bench.json, bench.svg and each attack's clean draw (clean-ATTACK.tsv); returns the markdown. */
    String run(Path baseModel, String modelName, List<String> attacks, List<String> defenses, boolean quick, DefenseBenchmark.Poisoning poisoning, Path out,
               int maxLength) throws Exception {
        // The quick slice still needs a few hundred steps: 1000 rows x 2 epochs at batch 32 left MiniLM at chance on clean inputs.
        int limit = trainLimit >= 0 ? trainLimit : quick ? 2000 : 0;
        int eps = epochs > 0 ? epochs : 3;
        int tests = testLimit >= 0 ? testLimit : quick ? 300 : 0;
        Path dir = dataDir != null ? dataDir : DataOptions.benchmarkData();
        TrainConfig d = TrainConfig.defaults();
        TrainConfig train = new TrainConfig(eps, quick ? 16 : d.batchSize(), d.learningRate(), d.weightDecay(), d.warmupRatio(), d.maxGradNorm(), victimSeed != null ? victimSeed : seed, 0);
        Path victimDir = victims != null ? victims : out.resolve("victims");
        DefenseBenchmark.Settings s = new DefenseBenchmark.Settings(attacks, defenses, new BenchmarkData(dir, dataset),
                new DefenseBenchmark.VictimBuild(baseModel, victimDir, limit, train, maxLength, poisoning), cleanBudget, tests, !noFloor, seed);
        String sliceFlags = (quick ? " --quick" : "") + (trainLimit >= 0 ? " --train-limit " + trainLimit : "") + (epochs > 0 ? " --epochs " + epochs : "")
                + (testLimit >= 0 ? " --test-limit " + testLimit : "") + (poisoning == null ? "" : poisoningFlags(poisoning));
        String started = Instant.now().toString();
        DefenseBenchmark.Result r;
        try (NDManager root = TorchRuntime.newManager()) {
            r = DefenseBenchmark.run(s, root, new Listener());
        }
        return DefenseBenchmarkFiles.write(out, modelName, r, started, sliceFlags);
    }

    /**
     * Runs the generation benchmark and writes OUT/bench.md, bench.json and bench.svg; returns the markdown.
     * Victims are trained as session 8's were (2 epochs, batch 16, lr 5e-4) unless --epochs says otherwise.
     */
    String runGeneration(Path baseModel, String modelName, List<String> attacks, List<String> defenses, dev.headguard.attack.GenerationPoisoning.Goal goal,
                         Path judge, int maxNew, Path out, int maxLength) throws Exception {
        OptionChecks.atLeast("--max-new", maxNew, 1);
        dev.headguard.train.GenerationTuning.requireLanguageModel(baseModel);
        if (judge != null) {
            dev.headguard.model.io.ModelStore.readConfig(judge);
        }
        int limit = Math.max(trainLimit, 0);
        int tests = Math.max(testLimit, 0);
        Path dir = dataDir != null ? dataDir : DataOptions.benchmarkData();
        TrainConfig d = TrainConfig.defaults();
        TrainConfig train = new TrainConfig(epochs > 0 ? epochs : 2, 16, 5e-4, d.weightDecay(), d.warmupRatio(), d.maxGradNorm(), victimSeed != null ? victimSeed : seed, 0);
        Path victimDir = victims != null ? victims : out.resolve("victims");
        var s = new GenerationBenchmark.Settings(attacks, defenses, new BenchmarkData(dir, dataset), new DefenseBenchmark.VictimBuild(baseModel, victimDir, limit,
                train, maxLength), new GenerationBenchmark.Goal(goal, judge, maxNew), cleanBudget, tests, !noFloor, seed);
        String sliceFlags = (trainLimit >= 0 ? " --train-limit " + trainLimit : "") + (epochs > 0 ? " --epochs " + epochs : "")
                + (testLimit >= 0 ? " --test-limit " + testLimit : "") + (maxNew != 32 ? " --max-new " + maxNew : "");
        String started = Instant.now().toString();
        GenerationBenchmark.Result r;
        try (NDManager root = TorchRuntime.newManager()) {
            r = GenerationBenchmark.run(s, root, new Listener());
        }
        return dev.headguard.bench.GenerationBenchmarkFiles.write(out, modelName, r, started, sliceFlags);
    }

    private static String poisoningFlags(DefenseBenchmark.Poisoning p) {
        return (p.mode() != null ? " --mode " + p.mode().name().toLowerCase(Locale.ROOT) : "") + (p.rate() > 0 ? " --rate " + p.rate() : "")
                + (p.keepBestByAsr() ? " --keep-best asr" : "");
    }

    static List<String> checked(List<String> names, List<String> known, String what) {
        for (String n : names) {
            if (!known.contains(n)) {
                throw new HeadGuardException("unknown " + what + " '" + n + "' (known: " + String.join(", ", known) + ")");
            }
        }
        return names;
    }

    static final List<String> ATTACKS = Victims.ATTACKS;
    /** What a bench without --attacks runs: the attacks it ran before SOS and BITE joined (a default is a contract). */
    static final List<String> DEFAULT_ATTACKS = List.of("badnets", "addsent", "syntactic", "style", "ep", "splitword");
    /** Every defense name bench accepts: the repair methods plus HeadGuard given the training texts as suspect inputs. */
    static final List<String> DEFENSES = java.util.stream.Stream.concat(Defense.NAMES.stream(), java.util.stream.Stream.of(DefenseBenchmark.WITH_SUSPECT)).toList();

    /** Training bars, stage lines, and a line per finished cell (of either benchmark). */
    private static final class Listener implements DefenseBenchmark.Listener, GenerationBenchmark.Listener {
        private final ProgressBar bar = new ProgressBar();

        @Override
        public void onStep(dev.headguard.train.Trainer.Progress p) {
            bar.onStep(p);
        }

        @Override
        public void onEpoch(dev.headguard.train.Trainer.Epoch e) {
            bar.onEpoch(e);
        }

        @Override
        public void stage(String message) {
            bar.stage(message);
        }

        @Override
        public void onDevPerplexity(int epoch, double perplexity) {
            bar.onDevPerplexity(epoch, perplexity);
        }

        @Override
        public void cell(GenerationBenchmark.Cell c) {
            System.err.printf(Locale.ROOT, "== %s / %s: perplexity %.2f  ASR %.4f  clean prompts %.4f  (%.0f s)%n", c.attack(), c.defense(), c.perplexity(), c.asr(),
                    c.cleanHitRate(), c.seconds());
        }

        @Override
        public void cell(DefenseBenchmark.Cell c) {
            System.err.printf(Locale.ROOT, "== %s / %s: CACC %.4f  ASR %.4f  (%.0f s)%n", c.attack(), c.defense(), c.cacc(), c.asr(), c.seconds());
        }
    }
}
