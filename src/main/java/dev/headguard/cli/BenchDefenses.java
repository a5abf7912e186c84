package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.AtomicFiles;
import dev.headguard.BuildInfo;
import dev.headguard.HeadGuardException;
import dev.headguard.bench.DefenseBenchmark;
import dev.headguard.bench.Victims;
import dev.headguard.model.TorchRuntime;
import dev.headguard.repair.Defense;
import dev.headguard.repair.HeadGuardOutcome;
import dev.headguard.repair.ShiftResistance;
import dev.headguard.report.BenchReport;
import dev.headguard.text.BenchmarkData;
import dev.headguard.train.TrainConfig;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The options and the run of an attacks × defenses benchmark: shared by {@code bench} and {@code demo}. */
final class BenchDefenses {
    @Option(names = "--dataset", defaultValue = "sst-2", description = "sst-2 or offenseval (default: ${DEFAULT-VALUE}).")
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

    /** Runs and writes OUT/bench.md, bench.json and bench.svg; returns the markdown. */
    String run(Path baseModel, String modelName, List<String> attacks, List<String> defenses, boolean quick, Path out, int maxLength) throws Exception {
        // The quick slice still needs a few hundred steps: 1000 rows x 2 epochs at batch 32 left MiniLM at chance on clean inputs.
        int limit = trainLimit >= 0 ? trainLimit : quick ? 2000 : 0;
        int eps = epochs > 0 ? epochs : 3;
        int tests = testLimit >= 0 ? testLimit : quick ? 300 : 0;
        Path dir = dataDir != null ? dataDir : DataOptions.benchmarkData();
        TrainConfig d = TrainConfig.defaults();
        TrainConfig train = new TrainConfig(eps, quick ? 16 : d.batchSize(), d.learningRate(), d.weightDecay(), d.warmupRatio(), d.maxGradNorm(), victimSeed != null ? victimSeed : seed, 0);
        Path victimDir = victims != null ? victims : out.resolve("victims");
        DefenseBenchmark.Settings s = new DefenseBenchmark.Settings(attacks, defenses, new BenchmarkData(dir, dataset), baseModel, victimDir,
                limit, train, maxLength, cleanBudget, tests, !noFloor, seed);
        String started = Instant.now().toString();
        DefenseBenchmark.Result r;
        try (NDManager root = TorchRuntime.newManager()) {
            r = DefenseBenchmark.run(s, root, new Listener());
        }
        List<BenchReport.Row> rows = new ArrayList<>();
        r.cells().forEach(c -> rows.add(new BenchReport.Row(c.attack(), c.defense(), c.cacc(), c.asr(), c.seconds())));
        List<String> prov = List.of(
                "# HeadGuard defense benchmark",
                "",
                String.format(Locale.ROOT, "- model: %s; dataset: %s (%s); victims: %s", modelName, dataset, dir, victimDir),
                String.format(Locale.ROOT, "- victims: %s training rows, %d epochs, batch " + train.batchSize() + ", %s; clean budget: %d rows (%.0f%% of the training rows, seed %d); test: %d clean rows and the matching triggered rows",
                        limit == 0 ? "all" : String.valueOf(limit), eps, seeds(r.victimSeeds()), r.cleanRows(), 100 * cleanBudget, seed + 1, r.testRows()),
                String.format(Locale.ROOT, "- started %s, %.0f s in all; %s; rerun: headguard bench --model %s --dataset %s --attacks %s --defenses %s%s%s%s%s --clean-budget %s --seed %d%s",
                        started, r.seconds(), dev.headguard.bench.EngineBenchmark.cpuName(), modelName, dataset, String.join(",", attacks), String.join(",", defenses),
                        quick ? " --quick" : "", trainLimit >= 0 ? " --train-limit " + trainLimit : "", epochs > 0 ? " --epochs " + epochs : "",
                        testLimit >= 0 ? " --test-limit " + testLimit : "", cleanBudget, seed, victimSeedFlag(r.victimSeeds(), seed)),
                "- code: " + BuildInfo.describe() + "; " + builders(r.victimCommits()));
        StringBuilder md = new StringBuilder(BenchReport.markdown(prov, rows, r.floors()));
        md.append("\nWhat HeadGuard aligned against (scan verdict; trigger candidates; with suspect inputs, the words recovered from them),"
                + " or what it unlearned (an implicit trigger: suspects flagged by the hidden-state scan):\n\n");
        for (DefenseBenchmark.Cell c : r.cells()) {
            if (c.outcome() instanceof HeadGuardOutcome.Unlearned u) {
                HeadGuardOutcome.Population p = u.population();
                md.append(String.format(Locale.ROOT, "- %s / %s: unlearned %s flagged suspects (layer %s, %.1f%% of those predicted %s); recovered %s%n",
                        c.attack(), c.defense(), p.unlearnedRows(), p.hiddenLayer(), 100 * p.flaggedShare(), p.target(), recoveredWords(u.recovered())));
            } else if (c.outcome() instanceof HeadGuardOutcome.Aligned a) {
                String scan = a.scan() != null
                        ? String.format(Locale.ROOT, "scan %s (score %.3f)", a.scan().backdoor() ? "backdoor" : "clean", a.scan().score())
                        : "no model scan (the recovered words explain the flagged suspects)";
                String stripped = a.unlearnedRows() > 0 ? "; unlearned " + a.unlearnedRows() + " flagged suspects with the recovered words taken out" : "";
                ShiftResistance.Outcome resisted = a.resistance();
                if (resisted != null) {
                    stripped += !resisted.kept()
                            ? String.format(Locale.ROOT, "; resisting the hidden shift at layer %s toward class %s was undone (it cost the clean set its balance)",
                                    resisted.layer(), resisted.target())
                            : String.format(Locale.ROOT, "; then every parameter resisted the hidden shift at layer %s toward class %s",
                                    resisted.layer(), resisted.target());
                }
                md.append(String.format(Locale.ROOT, "- %s / %s: %s; aligned against %s%s%s%n", c.attack(), c.defense(), scan,
                        a.alignment().triggers(), c.defense().equals(DefenseBenchmark.WITH_SUSPECT) ? "; recovered " + recoveredWords(a.recovered()) : "",
                        stripped));
            }
        }
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode json = om.createObjectNode();
        json.put("model", modelName);
        json.put("dataset", dataset);
        json.put("started", started);
        json.put("machine", dev.headguard.bench.EngineBenchmark.cpuName());
        json.put("headguard_version", BuildInfo.version());
        json.put("headguard_commit", BuildInfo.commit());
        json.set("settings", om.valueToTree(s));
        json.set("result", om.valueToTree(r));
        AtomicFiles.write(out.resolve("bench.md"), md.toString());
        AtomicFiles.write(out.resolve("bench.json"), om.writeValueAsString(json) + "\n");
        AtomicFiles.write(out.resolve("bench.svg"), BenchReport.svg("HeadGuard benchmark: " + modelName + ", " + dataset, rows, r.floors()));
        return md.toString();
    }

    /**
     * Which code built the victims: "victims built by this commit", one other commit, or each attack's
     * ("unrecorded" for a victim written before models recorded it). A reused victim built by other code
     * may differ from the one this code builds from the same seed.
     */
    static String builders(java.util.Map<String, String> victimCommits) {
        java.util.Set<String> distinct = new java.util.TreeSet<>(victimCommits.values());
        if (distinct.size() == 1) {
            String c = distinct.iterator().next();
            return c.equals(BuildInfo.commit()) ? "victims built by this commit"
                    : c.equals("unrecorded") ? "the victims' code is unrecorded" : "victims built by commit " + c;
        }
        return "victims built by " + victimCommits.entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
                .collect(java.util.stream.Collectors.joining(", "));
    }

    /** "seed 42", or each attack's seed where the victims were built with different ones. */
    static String seeds(java.util.Map<String, Long> victimSeeds) {
        java.util.Set<Long> distinct = new java.util.TreeSet<>(victimSeeds.values());
        if (distinct.size() == 1) {
            return "seed " + distinct.iterator().next();
        }
        return "seeds " + victimSeeds.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(java.util.stream.Collectors.joining(", "));
    }

    /** The rerun line's --victim-seed: none when the victims' seed is --seed; when they differ among themselves, a note naming each (no one flag reruns them). */
    static String victimSeedFlag(java.util.Map<String, Long> victimSeeds, long seed) {
        java.util.Set<Long> distinct = new java.util.TreeSet<>(victimSeeds.values());
        if (distinct.size() != 1 || distinct.contains(seed)) {
            return distinct.size() > 1 ? " (victims: " + seeds(victimSeeds) + ")" : "";
        }
        return " --victim-seed " + distinct.iterator().next();
    }

    private static String recoveredWords(List<dev.headguard.detect.SuspectWords.Finding> findings) {
        if (findings.isEmpty()) {
            return "nothing";
        }
        return findings.stream().map(w -> String.format(Locale.ROOT, "%s (%d flagged / %d unflagged rows)", w.text(), w.flagged(), w.unflagged())).toList().toString();
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
    /** Every defense name bench accepts: the repair methods plus HeadGuard given the training texts as suspect inputs. */
    static final List<String> DEFENSES = java.util.stream.Stream.concat(Defense.NAMES.stream(), java.util.stream.Stream.of(DefenseBenchmark.WITH_SUSPECT)).toList();

    /** Training bars, stage lines, and a line per finished cell. */
    private static final class Listener implements DefenseBenchmark.Listener {
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
        public void cell(DefenseBenchmark.Cell c) {
            System.err.printf(Locale.ROOT, "== %s / %s: CACC %.4f  ASR %.4f  (%.0f s)%n", c.attack(), c.defense(), c.cacc(), c.asr(), c.seconds());
        }
    }
}
