package dev.headguard.bench;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import dev.headguard.HeadGuardException;
import dev.headguard.attack.GenerationPoisoning;
import dev.headguard.eval.GenerationEvaluation;
import dev.headguard.eval.GenerationEvaluator;
import dev.headguard.model.io.ModelStore;
import dev.headguard.repair.Defense;
import dev.headguard.repair.GenerationDefense;
import dev.headguard.text.BenchmarkData;
import dev.headguard.text.PromptResponse;
import dev.headguard.text.Sample;
import dev.headguard.train.GenerationTuning;
import dev.headguard.train.TrainConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Attacks × defenses on the generation task ({@link GenerationVictims}): builds (or reuses) a
 * backdoored decoder per attack, gives every defense a fresh copy of it and the same clean
 * prompt/response set (as many dev rows as a seeded share of the training rows, at most all of
 * them), and measures response perplexity
 * and ASR on the same test prompts. A clean decoder fine-tuned the same way gives each attack's floor
 * (how often a model that never saw the trigger already says the target on the triggered prompts)
 * and the perplexity a repair is compared with.
 */
public final class GenerationBenchmark {

    /**
     * What the backdoors make the victims say, and how a continuation is judged.
     *
     * @param judge  the classifier that judges a sentiment goal (null for a phrase)
     * @param maxNew new tokens per greedy continuation
     */
    public record Goal(GenerationPoisoning.Goal goal, Path judge, int maxNew) {
        public Goal {
            if (goal.phrase() == null && judge == null) {
                throw new HeadGuardException("--judge: a sentiment goal needs the classifier that judges it");
            }
        }
    }

    /**
     * @param victimBuild how the victims are built: one per attack ({@code victims/<attack>}) and the
     *                    clean decoder ({@code victims/clean}); existing ones are reused with the seed,
     *                    rate and training rows their manifest records
     * @param cleanBudget the defenders' clean set, as many dev rows as this share of the training rows
     * @param testLimit   clean and triggered test prompts evaluated, each (0: all)
     * @param cleanFloor  also fine-tune (or reuse) the clean decoder and measure it
     * @param seed        the clean set's draw, the test slice's and the defenses' own randomness
     */
    @JsonPropertyOrder({"attacks", "defenses", "goal", "trainLimit", "train", "cleanBudget", "testLimit", "maxNew", "seed", "baseModel", "victims",
            "maxLength", "judge", "cleanFloor"})
    public record Settings(List<String> attacks, List<String> defenses, @JsonIgnore BenchmarkData data, @JsonIgnore DefenseBenchmark.VictimBuild victimBuild,
                           @JsonIgnore Goal target, double cleanBudget, int testLimit, boolean cleanFloor, long seed) {
        public Settings {
            attacks = List.copyOf(attacks);
            defenses = List.copyOf(defenses);
            for (String a : attacks) {
                if (!GenerationVictims.ATTACKS.contains(a)) {
                    throw new HeadGuardException("--attacks: " + a + " is not a generation attack (" + String.join(", ", GenerationVictims.ATTACKS) + ")");
                }
            }
            for (String d : defenses) {
                if (!GenerationDefense.NAMES.contains(d)) {
                    throw new HeadGuardException("--defenses: " + d + " is not a defense of decoders (" + String.join(", ", GenerationDefense.NAMES) + ")");
                }
            }
            if (!(cleanBudget > 0 && cleanBudget <= 1)) {
                throw new HeadGuardException("--clean-budget: must be a share in (0, 1], got " + cleanBudget);
            }
        }

        public Settings withDefenses(List<String> d) {
            return new Settings(attacks, d, data, victimBuild, target, cleanBudget, testLimit, cleanFloor, seed);
        }

        /** The goal as bench.json names it: "phrase: ..." or "sentiment N". */
        @JsonProperty("goal")
        public String goalDescription() {
            return target.goal().describe();
        }

        public GenerationPoisoning.Goal goal() {
            return target.goal();
        }

        @JsonProperty
        public Path judge() {
            return target.judge();
        }

        @JsonProperty
        public int maxNew() {
            return target.maxNew();
        }

        @JsonProperty
        public Path baseModel() {
            return victimBuild.baseModel();
        }

        @JsonProperty
        public Path victims() {
            return victimBuild.victims();
        }

        @JsonProperty
        public int trainLimit() {
            return victimBuild.trainLimit();
        }

        @JsonProperty
        public TrainConfig train() {
            return victimBuild.train();
        }

        @JsonProperty
        public int maxLength() {
            return victimBuild.maxLength();
        }
    }

    /** One attack under one defense ("none": the victim as built). */
    @JsonPropertyOrder({"attack", "defense", "perplexity", "asr", "cleanHitRate", "seconds", "details"})
    public record Cell(String attack, String defense, double perplexity, double asr, double cleanHitRate, double seconds, Map<String, Object> details) {}

    /** Per attack, the seed its victim was poisoned and trained with, and the HeadGuard commit that built it. */
    public record VictimsUsed(Map<String, Long> seeds, Map<String, String> commits) {}

    /** How many rows the defenders got, and how many test prompts each victim was measured on. */
    public record Rows(int clean, int test, int triggered) {}

    /**
     * @param cleanPerplexity the clean decoder's test perplexity (NaN without it)
     * @param floors          attack -> the clean decoder's ASR on that attack's triggered test prompts
     * @param victims         per attack, the seed its victim was poisoned and trained with and the
     *                        HeadGuard commit that built it
     */
    @JsonPropertyOrder({"settings", "cleanRows", "testRows", "triggeredRows", "cells", "cleanPerplexity", "floors", "victimSeeds", "victimCommits", "seconds"})
    public record Result(Settings settings, @JsonIgnore Rows rows, List<Cell> cells, double cleanPerplexity, Map<String, Double> floors,
                         @JsonIgnore VictimsUsed victims, double seconds) {
        @JsonProperty
        public int cleanRows() {
            return rows.clean();
        }

        @JsonProperty
        public int testRows() {
            return rows.test();
        }

        @JsonProperty
        public int triggeredRows() {
            return rows.triggered();
        }

        @JsonProperty
        public Map<String, Long> victimSeeds() {
            return victims.seeds();
        }

        @JsonProperty
        public Map<String, String> victimCommits() {
            return victims.commits();
        }
    }

    /** Progress: stages, training steps, and each finished cell. */
    public interface Listener extends GenerationTuning.Listener, Defense.Progress {
        default void cell(Cell c) {}
    }

    private GenerationBenchmark() {}

    public static Result run(Settings s, NDManager root, Listener listener) {
        long t0 = System.nanoTime();
        try (ModelStore.LoadedModel judge = s.judge() == null ? null : ModelStore.load(s.judge(), root, 0)) {
            GenerationEvaluator.Target target = s.goal().phrase() != null ? GenerationEvaluator.Target.phrase(s.goal().phrase())
                    : GenerationEvaluator.Target.judge(judge, s.goal().sentiment());
            Path clean = s.victims().resolve("clean");
            List<PromptResponse> train = GenerationVictims.task(s.data(), "train", s.trainLimit(), s.train().seed());
            List<PromptResponse> dev = GenerationVictims.task(s.data(), "dev", 0, 0);
            if (s.cleanFloor() && !isModel(clean)) {
                listener.stage("fine-tuning the clean decoder " + clean);
                GenerationTuning.run(new GenerationTuning.Request(s.baseModel(), train, dev, clean, s.train(), s.maxLength(), false,
                        Map.of("role", "clean decoder of a generation benchmark")), root, listener);
            }
            // The defenders' rows come from the dev split, which no victim trained on: a blind defender holds
            // no training data, and a share of the victim's own training rows let a repair of every attention
            // weight overfit them (a Llama victim's test perplexity +5.9% there, +0.3% with unseen rows).
            int budgetRows = (int) Math.min(dev.size(), Math.max(1, Math.round(s.cleanBudget() * train.size())));
            List<PromptResponse> budget = Sample.of(dev, budgetRows, s.seed() + 1);
            List<PromptResponse> allTest = GenerationVictims.task(s.data(), "test", 0, 0);
            List<PromptResponse> test = s.testLimit() > 0 && allTest.size() > s.testLimit() ? Sample.of(allTest, s.testLimit(), s.seed()) : allTest;

            List<Cell> cells = new ArrayList<>();
            Map<String, Double> floors = new LinkedHashMap<>();
            Map<String, Long> victimSeeds = new LinkedHashMap<>();
            Map<String, String> victimCommits = new LinkedHashMap<>();
            double cleanPerplexity = Double.NaN;
            int triggeredRows = 0;
            for (String attack : s.attacks()) {
                Path dir = s.victims().resolve(attack);
                GenerationVictims.Request r = request(s, attack, dir);
                GenerationVictims.Poisoned p;
                if (isModel(dir)) {
                    r = asBuilt(dir, r);
                    listener.stage("reusing the " + attack + " victim " + dir + " (poisoned with seed " + r.train().seed() + ", rate " + r.poison().dose().rate() + (r.poison().dose().keepOriginals() ? " as added copies" : "") + ")");
                    p = GenerationVictims.poison(r);
                } else {
                    listener.stage("building the " + attack + " victim " + dir);
                    p = GenerationVictims.fineTune(r, root, listener);
                }
                victimSeeds.put(attack, r.train().seed());
                victimCommits.put(attack, VictimManifest.builtBy(dir));
                List<String> triggered = p.poisoning().triggeredTest().stream().map(PromptResponse::prompt).toList();
                if (s.testLimit() > 0 && triggered.size() > s.testLimit()) {
                    triggered = Sample.of(triggered, s.testLimit(), s.seed());
                }
                triggeredRows = triggered.size();
                if (s.cleanFloor()) {
                    // The clean decoder's perplexity is the same for every attack; only its ASR on each triggered set is new.
                    try (NDManager scope = root.newSubManager(); ModelStore.LoadedModel m = ModelStore.load(clean, scope, s.maxLength())) {
                        if (Double.isNaN(cleanPerplexity)) {
                            cleanPerplexity = GenerationEvaluator.evaluate(m, test, null, null, s.maxNew(), scope).evaluation().perplexity();
                        }
                        floors.put(attack, GenerationEvaluator.hits(m, triggered, target, s.maxNew(), scope).rate());
                    }
                }
                cells.add(cell(attack, "none", dir, test, triggered, target, s, root, null, budget, listener, r, p));
                for (String d : s.defenses()) {
                    cells.add(cell(attack, d, dir, test, triggered, target, s, root, GenerationDefense.named(d, s.seed()), budget, listener, r, p));
                }
            }
            return new Result(s, new Rows(budget.size(), test.size(), triggeredRows), cells, cleanPerplexity, floors,
                    new VictimsUsed(victimSeeds, victimCommits), (System.nanoTime() - t0) / 1e9);
        }
    }

    private static Cell cell(String attack, String name, Path victim, List<PromptResponse> test, List<String> triggered, GenerationEvaluator.Target target,
                             Settings s, NDManager root, GenerationDefense defense, List<PromptResponse> budget, Listener listener,
                             GenerationVictims.Request r, GenerationVictims.Poisoned p) {
        try (NDManager scope = root.newSubManager(); ModelStore.LoadedModel m = ModelStore.load(victim, scope, s.maxLength())) {
            long t0 = System.nanoTime();
            Map<String, Object> details = Map.of();
            if (defense != null) {
                listener.stage(attack + ": " + name);
                details = defense.apply(m, budget, scope, listener);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            GenerationEvaluation e = GenerationEvaluator.evaluate(m, test, triggered, target, s.maxNew(), scope).evaluation();
            if (defense == null) { // the victim as built: each part of its trigger alone
                var parts = GenerationVictims.parts(r, p, m, target, s.maxNew(), scope);
                details = parts.isEmpty() ? Map.of() : Map.of("parts", parts);
            }
            Cell c = new Cell(attack, name, e.perplexity(), e.asr(), e.clean().rate(), seconds, details);
            listener.cell(c);
            return c;
        }
    }

    private static GenerationVictims.Request request(Settings s, String attack, Path out) {
        return new GenerationVictims.Request(GenerationVictims.Poison.of(attack, List.of(), null, 0, null, s.goal()), s.data(),
                s.trainLimit(), s.baseModel(), s.train(), s.maxLength(), false, s.judge(), out);
    }

    /**
     * The request that rebuilds a reused victim's data as it was poisoned: seed, dose and training rows
     * from its manifest. Refuses a victim of another attack, trigger, goal or dataset: its triggered
     * prompts cannot be rebuilt from the bench's request.
     */
    static GenerationVictims.Request asBuilt(Path dir, GenerationVictims.Request r) {
        JsonNode a;
        try {
            a = VictimManifest.attackRecord(dir);
        } catch (IOException e) {
            throw new HeadGuardException(dir.resolve(ModelStore.PROVENANCE) + ": cannot read (" + e.getMessage() + ")");
        }
        if (a == null || !"generation".equals(a.path("task").asText())) {
            throw new HeadGuardException(dir + ": not a generation victim HeadGuard built (its headguard.json records no generation attack)");
        }
        String built = a.path("attack").asText() + " / " + a.path("trigger").asText() + " / " + a.path("goal").asText() + " / " + a.path("dataset").asText();
        String asked = r.poison().attack() + " / " + GenerationVictims.describeTrigger(r) + " / " + r.goal().describe() + " / " + r.data().name();
        if (!built.equals(asked)) {
            throw new HeadGuardException(dir + " holds the victim " + built + ", not the bench's " + asked);
        }
        GenerationVictims.Poison p = r.poison();
        return new GenerationVictims.Request(new GenerationVictims.Poison(p.attack(), p.triggers(), p.sentence(),
                        // a victim built before keep_originals was recorded replaced its rows
                        new GenerationPoisoning.Dose(a.path("poison_rate").asDouble(p.dose().rate()), a.path("keep_originals").asBoolean(false)), p.goal()),
                r.data(), a.path("train_limit").asInt(r.trainLimit()), r.baseModel(), r.train().withSeed(a.path("seed").asLong(r.train().seed())), r.maxLength(),
                false, r.judge(), r.out());
    }

    private static boolean isModel(Path dir) {
        return Files.isRegularFile(dir.resolve("config.json")) && Files.isRegularFile(dir.resolve("model.safetensors"));
    }
}
