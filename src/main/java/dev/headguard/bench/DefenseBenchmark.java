package dev.headguard.bench;

import dev.headguard.repair.RepairPlan;
import dev.headguard.eval.Evaluation;
import dev.headguard.eval.Evaluator;
import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.attack.PoisonMode;
import dev.headguard.attack.PoisonedData;
import dev.headguard.attack.RareWordTrigger;
import dev.headguard.model.io.ModelStore;
import dev.headguard.repair.Defense;
import dev.headguard.repair.RepairOutcome;
import dev.headguard.repair.HeadGuardRepair;
import dev.headguard.text.Sample;
import dev.headguard.text.BenchmarkData;
import dev.headguard.text.Dataset;
import dev.headguard.train.FineTuning;
import dev.headguard.train.TrainConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Attacks × defenses on one dataset: builds (or reuses) a victim per attack, gives every defense a
 * fresh copy of it and the same clean budget (a seeded share of the clean training rows), and
 * measures CACC and ASR on the same test sets. A clean model trained the same way gives each
 * attack's floor: how often a model that never saw the trigger already calls the same triggered
 * inputs the target.
 */
public final class DefenseBenchmark {

    /**
     * How the victims are built.
     *
     * @param victims    directory holding one victim per attack ({@code victims/<attack>}) and the
     *                   clean model ({@code victims/clean}); existing ones are reused
     * @param trainLimit training rows of each victim (0: all)
     * @param train      how new victims are trained; its seed also poisons them (a reused victim
     *                   keeps the seed its manifest records)
     */
    public record VictimBuild(Path baseModel, Path victims, int trainLimit, TrainConfig train, int maxLength,
                              @com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL) Poisoning poisoning) {
        /** Victims poisoned the way each attack does by default. */
        public VictimBuild(Path baseModel, Path victims, int trainLimit, TrainConfig train, int maxLength) {
            this(baseModel, victims, trainLimit, train, maxLength, null);
        }
    }

    /**
     * How new victims are poisoned and which epoch they keep, where the bench is asked for other than each
     * attack's default (e.g. clean-label victims): {@code attack}'s --mode, --rate and --keep-best.
     *
     * @param mode          null: each attack's own
     * @param rate          0: each attack's own
     * @param keepBestByAsr keep the epoch with the best dev accuracy plus triggered-dev ASR
     */
    @com.fasterxml.jackson.annotation.JsonPropertyOrder({"mode", "rate", "keepBestByAsr"})
    public record Poisoning(@com.fasterxml.jackson.annotation.JsonIgnore PoisonMode mode, double rate, boolean keepBestByAsr) {
        public Poisoning {
            if (!(rate >= 0 && rate < 1)) {
                throw new HeadGuardException("--rate: must be a share in [0, 1), got " + rate);
            }
        }

        /** As the victims' manifests and {@code --mode} spell it: dirty, clean, mix, or null for each attack's own. */
        @com.fasterxml.jackson.annotation.JsonProperty("mode")
        public String modeName() {
            return mode == null ? null : mode.name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * @param victimBuild  how the victims are built (its fields sit among these in bench.json)
     * @param cleanBudget  the defenders' clean set, as a share of the training rows
     * @param testLimit    test rows evaluated (0: all)
     * @param cleanFloor   also measure a clean model's ASR on every triggered set
     * @param seed         the clean budget's draw and the defenses' own randomness
     */
    public record Settings(List<String> attacks, List<String> defenses, BenchmarkData data,
                           @com.fasterxml.jackson.annotation.JsonUnwrapped VictimBuild victimBuild, double cleanBudget, int testLimit,
                           boolean cleanFloor, long seed) {
        public Settings {
            attacks = List.copyOf(attacks);
            defenses = List.copyOf(defenses);
            for (String a : attacks) {
                if (!Victims.ATTACKS.contains(a)) {
                    throw new HeadGuardException("unknown attack '" + a + "' (known: " + String.join(", ", Victims.ATTACKS) + ")");
                }
            }
            for (String d : defenses) {
                if (!d.equals(WITH_SUSPECT)) {
                    Defense.named(d, seed); // fails early on an unknown name
                }
            }
            if (!(cleanBudget > 0 && cleanBudget <= 1)) {
                throw new HeadGuardException("the clean budget must be a share in (0, 1], got " + cleanBudget);
            }
        }

        public Path baseModel() {
            return victimBuild.baseModel();
        }

        public Path victims() {
            return victimBuild.victims();
        }

        public int trainLimit() {
            return victimBuild.trainLimit();
        }

        public TrainConfig train() {
            return victimBuild.train();
        }

        public int maxLength() {
            return victimBuild.maxLength();
        }
    }

    /** One attack under one defense ("none": the victim as built). */
    /** One attack x defense: its scores and, typed, what the defense did ({@code "details"} in bench.json). */
    @com.fasterxml.jackson.annotation.JsonPropertyOrder({"attack", "defense", "cacc", "asr", "labelFlipRate", "seconds", "details"})
    public record Cell(String attack, String defense, double cacc, double asr, double labelFlipRate, double seconds,
                       @com.fasterxml.jackson.annotation.JsonIgnore RepairOutcome outcome) {
        @com.fasterxml.jackson.annotation.JsonProperty("details")
        public Map<String, Object> details() {
            return outcome.details();
        }
    }

    /**
     * @param cleanDraws  attack -> the clean rows every defense of that attack was given
     * @param floors      attack -> the clean model's ASR on that attack's triggered test set
     * @param victimSeeds attack -> the seed its victim was poisoned and trained with (a reused victim's own)
     * @param victimCommits attack -> the HeadGuard commit that built its victim ({@link Victims#builtBy})
     */
    @com.fasterxml.jackson.annotation.JsonPropertyOrder({"settings", "cleanRows", "testRows", "cells", "floors", "victimSeeds", "victimCommits", "seconds"})
    public record Result(Settings settings, @com.fasterxml.jackson.annotation.JsonIgnore Map<String, Dataset> cleanDraws, int testRows, List<Cell> cells,
                         Map<String, Double> floors, Map<String, Long> victimSeeds, Map<String, String> victimCommits, double seconds) {
        /** How many clean rows each defense was given (the same for every attack: one budget of one training split). */
        @com.fasterxml.jackson.annotation.JsonProperty("cleanRows")
        public int cleanRows() {
            return cleanDraws.values().stream().mapToInt(Dataset::size).reduce((a, b) -> b).orElse(0);
        }
    }

    /** Progress: stages, training steps, and each finished cell. */
    public interface Listener extends Defense.Progress {
        default void cell(Cell c) {}
    }

    /**
     * HeadGuard given the victim's training texts, unlabelled, as suspect inputs (the defender who
     * holds the training data, poisoned rows unknown). For embedding poisoning those are the clean
     * model's training texts: that attacker never put a poisoned row in them.
     */
    public static final String WITH_SUSPECT = "headguard-suspect";

    private DefenseBenchmark() {}

    public static Result run(Settings s, NDManager root, Listener listener) {
        long t0 = System.nanoTime();
        Path clean = s.victims().resolve("clean");
        // Every victim's request up front: a reused victim whose data the bench cannot rebuild is refused
        // before any cell runs.
        Map<String, Victims.Request> requests = new LinkedHashMap<>();
        for (String attack : s.attacks()) {
            Path dir = s.victims().resolve(attack);
            Victims.Request r = request(s, attack, dir, Victims.trainsEmbeddingsOnly(attack) ? clean : s.baseModel());
            requests.put(attack, isModel(dir) ? asBuilt(dir, r) : r);
        }
        boolean needClean = s.cleanFloor() || s.attacks().stream().anyMatch(Victims::trainsEmbeddingsOnly);
        if (needClean && !isModel(clean)) {
            listener.stage("training the clean model " + clean);
            Victims.Request r = request(s, "badnets", clean, s.baseModel());
            Dataset[] split = Victims.cleanSplits(r);
            FineTuning.run(new FineTuning.Request(s.baseModel(), split[0], split[1], clean, s.train(), s.maxLength(), false,
                    Map.of("role", "clean model of a defense benchmark")), root, listener);
        }
        List<Cell> cells = new ArrayList<>();
        Map<String, Double> floors = new LinkedHashMap<>();
        Map<String, Long> victimSeeds = new LinkedHashMap<>();
        Map<String, String> victimCommits = new LinkedHashMap<>();
        Map<String, Dataset> cleanDraws = new LinkedHashMap<>();
        int testRows = 0;
        for (String attack : s.attacks()) {
            Path dir = s.victims().resolve(attack);
            // A reused victim's poisoned training texts (the suspects) and triggered test set are rebuilt as
            // its manifest records them (seed, rate, mode, kept originals, trigger): with the bench's own
            // settings they would be another draw of poisoned rows than the ones the victim learned from.
            Victims.Request r = requests.get(attack);
            if (isModel(dir)) {
                listener.stage("reusing the " + attack + " victim " + dir + " (poisoned with seed " + r.train().seed() + ", rate " + r.effectiveRate()
                        + ", " + r.effectiveMode().name().toLowerCase(java.util.Locale.ROOT) + (r.keepOriginals() ? ", originals kept" : "") + ")");
            } else {
                listener.stage("building the " + attack + " victim " + dir);
                Victims.build(r, root, listener);
            }
            victimSeeds.put(attack, r.train().seed());
            victimCommits.put(attack, VictimManifest.builtBy(dir));
            PoisonedData p = Victims.poison(r);
            Dataset[] split = Victims.cleanSplits(r);
            Dataset budget = split[0].sample((int) Math.max(1, Math.round(s.cleanBudget() * split[0].size())), s.seed() + 1);
            cleanDraws.put(attack, budget);
            Dataset test = s.testLimit() > 0 ? split[2].sample(s.testLimit(), s.seed()) : split[2];
            Dataset triggered = p.triggeredTest();
            List<String> twins = p.twins();
            if (s.testLimit() > 0 && triggered.size() > s.testLimit()) {
                List<Integer> keep = Sample.of(java.util.stream.IntStream.range(0, triggered.size()).boxed().toList(), s.testLimit(), s.seed());
                keep = keep.stream().sorted().toList();
                triggered = triggered.withExamples(keep.stream().map(triggered.examples()::get).toList());
                List<String> all = twins;
                twins = keep.stream().map(all::get).toList();
            }
            testRows = test.size();
            if (s.cleanFloor()) {
                try (ModelStore.LoadedModel m = ModelStore.load(clean, root, s.maxLength())) {
                    floors.put(attack, Evaluator.evaluate(m, test, triggered, twins, r.target(), root).asr());
                }
            }
            cells.add(cell(attack, "none", dir, test, triggered, twins, r, s, root, null, budget, listener, () -> 0));
            // One model scan serves both HeadGuard variants, made when the first asks for it; its time is
            // charged to each variant that uses it (with recovered trigger words, or when it unlearns, a
            // repair does not ask).
            LazyScan scan = new LazyScan(dir, budget, s, root, listener);
            for (String d : s.defenses()) {
                Defense defense;
                boolean[] asked = {false};
                if (d.equals("headguard") || d.equals(WITH_SUSPECT)) {
                    HeadGuardRepair.Settings hs = HeadGuardRepair.Settings.defaults().withSeed(s.seed());
                    defense = new HeadGuardRepair(hs, () -> {
                        asked[0] = true;
                        return scan.get();
                    }, d.equals("headguard") ? List.of() : (attack.equals("ep") ? split[0] : p.train()).texts());
                } else {
                    defense = Defense.named(d, s.seed());
                }
                double before = scan.seconds();
                cells.add(cell(attack, d, dir, test, triggered, twins, r, s, root, defense, budget, listener,
                        () -> asked[0] ? before : 0)); // a scan made during this cell is in its own time already
            }
        }
        return new Result(s, cleanDraws, testRows, cells, floors, victimSeeds, victimCommits, (System.nanoTime() - t0) / 1e9);
    }

    private static Cell cell(String attack, String name, Path victim, Dataset test, Dataset triggered, List<String> twins, Victims.Request r,
                             Settings s, NDManager root, Defense defense, Dataset budget, Listener listener, java.util.function.DoubleSupplier extraSeconds) {
        try (NDManager scope = root.newSubManager(); ModelStore.LoadedModel m = ModelStore.load(victim, scope, s.maxLength())) {
            long t0 = System.nanoTime();
            RepairOutcome details = new RepairOutcome.Plain(Map.of());
            if (defense != null) {
                listener.stage(attack + ": " + name);
                details = defense.apply(m, budget, scope, listener);
            }
            double seconds = (System.nanoTime() - t0) / 1e9 + extraSeconds.getAsDouble();
            Evaluation e = Evaluator.evaluate(m, test, triggered, twins, r.target(), scope);
            Cell c = new Cell(attack, name, e.cacc(), e.asr(), e.labelFlipRate(), seconds, details);
            listener.cell(c);
            return c;
        }
    }

    /** The model scan of one victim, made on the first request (on its own copy of the victim) and kept. */
    private static final class LazyScan implements java.util.function.Supplier<RepairPlan> {
        private final Path victim;
        private final Dataset budget;
        private final Settings s;
        private final NDManager root;
        private final Listener listener;
        private RepairPlan plan;
        private double seconds;

        LazyScan(Path victim, Dataset budget, Settings s, NDManager root, Listener listener) {
            this.victim = victim;
            this.budget = budget;
            this.s = s;
            this.root = root;
            this.listener = listener;
        }

        /** Seconds the scan took (0 until it is made). */
        double seconds() {
            return seconds;
        }

        @Override
        public RepairPlan get() {
            if (plan != null) {
                return plan;
            }
            long t0 = System.nanoTime();
            HeadGuardRepair.Settings hs = HeadGuardRepair.Settings.defaults().withSeed(s.seed());
            listener.stage("scanning " + victim + " on " + Math.min(hs.scanTexts(), budget.size()) + " clean texts");
            try (NDManager scope = root.newSubManager(); ModelStore.LoadedModel m = ModelStore.load(victim, scope, s.maxLength())) {
                plan = HeadGuardRepair.scan(m, budget, hs, scope);
                listener.stage(String.format(java.util.Locale.ROOT, "scan: %s, score %.3f, top candidates %s", plan.backdoor() ? "backdoor" : "clean",
                        plan.scanScore(), plan.candidates().stream().limit(5).toList()));
            }
            seconds = (System.nanoTime() - t0) / 1e9;
            return plan;
        }
    }

    private static Victims.Request request(Settings s, String attack, Path out, Path base) {
        Poisoning p = s.victimBuild().poisoning();
        Victims.Poison poison = p == null ? Victims.Poison.of(attack) : new Victims.Poison(attack, List.of(), 1, null, p.rate(), 1, p.mode(), false);
        return new Victims.Request(poison, new Victims.Training(s.data(), s.trainLimit(), base, s.train(), s.maxLength(), false, p != null && p.keepBestByAsr()), out);
    }

    /**
     * The request that rebuilds a reused victim's poisoned data as it was made: seed, rate, mode,
     * target, kept originals and training-row limit from its manifest ({@code attack} in
     * {@code headguard.json}); {@code r} as it is when the manifest records no attack (a model
     * HeadGuard did not build). Refuses a victim of another attack, dataset or trigger: its data
     * cannot be rebuilt from the bench's request.
     */
    static Victims.Request asBuilt(Path dir, Victims.Request r) {
        com.fasterxml.jackson.databind.JsonNode a;
        try {
            a = VictimManifest.attackRecord(dir);
        } catch (java.io.IOException e) {
            throw new HeadGuardException("cannot read the victim manifest in " + dir + ": " + e.getMessage());
        }
        if (a == null || !a.isObject() || !a.has("attack")) {
            return r;
        }
        String attack = a.get("attack").asText();
        if (!attack.equals(r.attack())) {
            throw new HeadGuardException(dir + " holds a " + attack + " victim, not " + r.attack());
        }
        if (a.has("dataset") && !a.get("dataset").asText().equals(r.data().name())) {
            throw new HeadGuardException(dir + " holds a victim of " + a.get("dataset").asText() + ", not " + r.data().name());
        }
        if (a.has("trigger") && !Victims.sameTrigger(a.get("trigger").asText(), r)) {
            Victims.Request recorded = withTrigger(r, a.get("trigger").asText());
            if (recorded == null) {
                throw new HeadGuardException(dir + " holds a victim with the trigger '" + a.get("trigger").asText() + "', not the bench's '"
                        + Victims.describe(r) + "'");
            }
            r = recorded;
        }
        dev.headguard.attack.PoisonMode mode = r.mode();
        if (a.has("mode")) {
            try {
                mode = dev.headguard.attack.PoisonMode.valueOf(a.get("mode").asText().toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new HeadGuardException("the victim manifest in " + dir + " names an unknown poisoning mode '" + a.get("mode").asText() + "'");
            }
        }
        if (r.mode() != null && mode != r.mode() || r.rate() > 0 && a.has("poison_rate") && a.get("poison_rate").asDouble() != r.rate()) {
            throw new HeadGuardException(dir + " holds a victim poisoned " + (mode == null ? "as its attack does by default" : mode.name().toLowerCase(java.util.Locale.ROOT)) + " at rate "
                    + a.path("poison_rate").asDouble(r.effectiveRate()) + ", not the bench's " + r.effectiveMode().name().toLowerCase(java.util.Locale.ROOT)
                    + " at " + r.effectiveRate() + " (another --victims folder builds it)");
        }
        return new Victims.Request(new Victims.Poison(r.attack(), r.triggers(), r.triggerCount(), r.sentence(), a.path("poison_rate").asDouble(r.rate()),
                a.path("target").asInt(r.target()), mode, a.path("keep_originals").asBoolean(r.keepOriginals())),
                new Victims.Training(r.data(), a.path("train_limit").asInt(r.trainLimit()), r.baseModel(), r.train().withSeed(a.path("seed").asLong(r.train().seed())),
                        r.maxLength(), false, r.keepBestByAsr()), r.out());
    }

    /**
     * {@code r} with the trigger a victim's manifest recorded, where the bench can rebuild that trigger's
     * data: BadNets' and the split word's words ({@link RareWordTrigger#describe}) and AddSent's sentence;
     * null for any other attack.
     */
    static Victims.Request withTrigger(Victims.Request r, String recorded) {
        Victims.Poison p = r.poison();
        Victims.Poison with = switch (r.attack()) {
            case "badnets", "splitword" -> {
                RareWordTrigger t = RareWordTrigger.parse(recorded);
                yield t == null ? null : new Victims.Poison(p.attack(), t.words(), t.count(), p.sentence(), p.rate(), p.target(), p.mode(), p.keepOriginals());
            }
            case "addsent" -> recorded.isBlank() ? null
                    : new Victims.Poison(p.attack(), p.triggers(), p.triggerCount(), recorded, p.rate(), p.target(), p.mode(), p.keepOriginals());
            default -> null;
        };
        return with == null ? null : new Victims.Request(with, r.training(), r.out());
    }

    private static boolean isModel(Path dir) {
        return Files.isRegularFile(dir.resolve("config.json")) && Files.isRegularFile(dir.resolve("model.safetensors"));
    }
}
