package dev.headguard.bench;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dev.headguard.HeadGuardException;
import dev.headguard.detect.hidden.HiddenStateScan;
import dev.headguard.detect.ModelAudit;
import dev.headguard.detect.search.ContinuationSearch;
import dev.headguard.detect.search.ModelScanner;
import dev.headguard.detect.attention.Probe;
import dev.headguard.detect.attention.Roc;
import dev.headguard.detect.hidden.SuspectWords;
import dev.headguard.detect.search.UnsupportedFlips;
import dev.headguard.model.ModelConfig;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.PromptResponseFile;
import dev.headguard.text.Sample;
import dev.headguard.text.SentenceFile;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Model-verdict benchmark over a zoo of clean and backdoored models. The scan sees only the model
 * and a clean set; the ground truth (was it attacked, with which trigger words) is read from each
 * directory's headguard.json afterwards, by this benchmark alone, to score the verdicts.
 */
public final class ZooBenchmark {
    private ZooBenchmark() {}

    /** Inputs are cut at 128 tokens (SST-2 sentences and OffensEval tweets rarely reach it), or at a smaller model's limit. */
    static final int MAX_LENGTH = 128;

    /** One line of the list: a model directory, its clean file, optionally its training set (suspects). */
    public record Entry(Path model, Path clean, Path suspects) {}

    /**
     * What the manifest says: the attack's name ("clean" without one), its trigger, whether it is a token
     * trigger and was found; for a decoder with a target phrase, the phrase and whether the scan's best
     * candidate elicits it (null and false otherwise).
     */
    public record Truth(String name, String trigger, boolean backdoored, boolean tokenTrigger, boolean triggerInTop5, String targetPhrase,
                        boolean outputMatches) {}

    /** The population verdict with the training set as suspects: its excess, flags, score, and the recovered words. */
    public record Population(Path suspects, double excess, int flagged, boolean found, double score, boolean backdoor, List<String> recovered,
                             boolean triggerRecovered) {}

    /**
     * One model: the scan's result (a classifier's {@code scan}, or a decoder's {@code continuation}; the
     * other is null) and its top five, the truth, and the population verdict (null without suspects).
     */
    public record ModelRow(Path model, ModelScanner.Result scan, ContinuationSearch.Result continuation, List<String> top5, Truth truth,
                           Population population) {
        public double score() {
            return scan != null ? scan.score() : continuation.score();
        }

        public boolean backdoor() {
            return scan != null ? scan.backdoor() : continuation.backdoor();
        }

        public double seconds() {
            return scan != null ? scan.seconds() : continuation.seconds();
        }

        /** A decoder's elicited output: what the best candidate makes the prompts say ("" for a classifier). */
        public String elicited() {
            return continuation == null || continuation.candidates().isEmpty() ? "" : continuation.candidates().get(0).output();
        }
    }

    /** The verdict scores' AUROC over so many clean and backdoored models. */
    public record Verdicts(double auroc, int clean, int backdoored) {}

    /**
     * What the totals need of one model, in plain values (a Spark task sends it back to the driver).
     *
     * @param populationScore the verdict score with the training set as suspects (null without suspects)
     */
    public record Outcome(boolean backdoored, double score, Double populationScore, boolean tokenTrigger, boolean triggerInTop5,
                          boolean triggerRecovered, boolean phraseVictim, boolean outputMatched) implements java.io.Serializable {
        public static Outcome of(ModelRow row) {
            Truth t = row.truth();
            Population p = row.population();
            return new Outcome(t.backdoored(), row.score(), p == null ? null : p.score(), t.tokenTrigger(), t.triggerInTop5(),
                    p != null && p.triggerRecovered(), t.targetPhrase() != null, t.outputMatches());
        }
    }

    /**
     * The verdicts of the search alone and (null unless both kinds of model had a training set) with the
     * population; how many token-trigger victims had their trigger in the top five, or recovered.
     */
    public record Totals(Verdicts search, Verdicts withPopulation, int tokenVictims, int triggerInTop5, int triggerInTop5OrRecovered,
                         int phraseVictims, int outputMatched) {}

    /** The rows and their totals. */
    public record Result(List<ModelRow> rows, Totals totals) {}

    /** Reads the list: tab-separated model directory, clean file and optionally a training set. */
    public static List<Entry> readList(Path list) {
        return listFields(list).stream().map(f -> new Entry(Path.of(f[0]), Path.of(f[1]), f.length > 2 ? Path.of(f[2]) : null)).toList();
    }

    /** The list's lines as their fields, unparsed (a Spark job reads the model's as any Hadoop filesystem path). */
    public static List<String[]> listFields(Path list) {
        List<String[]> out = new ArrayList<>();
        for (String line : SentenceFile.readLines(list)) {
            String[] f = line.split("\t");
            if (f.length < 2) {
                throw new HeadGuardException(list + ": each line needs a model directory and a clean file, tab-separated");
            }
            out.add(f);
        }
        return out;
    }

    public static Result run(List<Entry> entries, int cleanLimit, Consumer<ModelRow> listener) {
        List<ModelRow> rows = new ArrayList<>();
        for (Entry e : entries) {
            ModelRow row = scan(e, cleanLimit);
            rows.add(row);
            listener.accept(row);
        }
        return new Result(List.copyOf(rows), totals(rows.stream().map(Outcome::of).toList()));
    }

    /** The totals over the models' outcomes. */
    public static Totals totals(List<Outcome> outcomes) {
        List<Double> cleanScores = new ArrayList<>();
        List<Double> backdoorScores = new ArrayList<>();
        List<Double> cleanWith = new ArrayList<>();
        List<Double> backdoorWith = new ArrayList<>();
        int tokenVictims = 0;
        int found = 0;
        int foundWith = 0; // in the top 5 or among the words recovered from the suspects
        int phraseVictims = 0;
        int matched = 0;
        for (Outcome o : outcomes) {
            if (o.tokenTrigger()) {
                tokenVictims++;
                found += o.triggerInTop5() ? 1 : 0;
                foundWith += o.triggerInTop5() || o.triggerRecovered() ? 1 : 0;
            }
            if (o.phraseVictim()) {
                phraseVictims++;
                matched += o.outputMatched() ? 1 : 0;
            }
            (o.backdoored() ? backdoorScores : cleanScores).add(o.score());
            if (o.populationScore() != null) {
                (o.backdoored() ? backdoorWith : cleanWith).add(o.populationScore());
            }
        }
        double auroc = cleanScores.isEmpty() || backdoorScores.isEmpty() ? Double.NaN : Roc.auroc(doubles(cleanScores), doubles(backdoorScores));
        Verdicts with = cleanWith.isEmpty() || backdoorWith.isEmpty() ? null
                : new Verdicts(Roc.auroc(doubles(cleanWith), doubles(backdoorWith)), cleanWith.size(), backdoorWith.size());
        return new Totals(new Verdicts(auroc, cleanScores.size(), backdoorScores.size()), with, tokenVictims, found, foundWith, phraseVictims, matched);
    }

    /** One model's scan and its truth, as {@code bench zoo} makes each row. */
    public static ModelRow scan(Entry e, int cleanLimit) {
        Path dir = e.model();
        ModelConfig config = ModelStore.readConfig(dir);
        if (config.family().decoder && config.languageModel()) {
            return decoder(e, config, cleanLimit);
        }
        List<String> clean = Sample.of(SentenceFile.readSentences(e.clean()), cleanLimit, 42);
        ModelAudit.Result audit;
        try (NDManager root = TorchRuntime.newManager();
             ModelStore.LoadedModel m = ModelStore.load(dir, root, Math.min(MAX_LENGTH, config.maxTokens()))) {
            // as `scan model --suspect`: every clean text, the suspects as one population
            audit = ModelAudit.run(m, new ModelAudit.Request(clean, UnsupportedFlips.Evidence.ofLabelledFile(e.clean(), m.model().config().numLabels()),
                    ModelScanner.Settings.defaults(), e.suspects() != null ? SentenceFile.readSentences(e.clean()) : null,
                    e.suspects() != null ? SentenceFile.readSentences(e.suspects()) : null, HiddenStateScan.Settings.defaults(42)), root, stage -> Probe.Progress.NONE);
        }
        ModelScanner.Result res = audit.search();
        JsonNode attack = attack(dir);
        boolean backdoored = attack != null;
        List<String> words = backdoored ? triggerWords(attack) : List.of();
        List<String> top = res.candidates().subList(0, Math.min(5, res.candidates().size())).stream().map(ModelScanner.Candidate::text).toList();
        boolean tokenTrigger = backdoored && List.of("badnets", "ep", "splitword").contains(attack.path("attack").asText());
        boolean hit = tokenTrigger && top.stream().anyMatch(t -> Arrays.stream(t.split(" ")).anyMatch(words::contains));
        Truth truth = new Truth(backdoored ? attack.path("attack").asText() : "clean", backdoored ? attack.path("trigger").asText() : "", backdoored,
                tokenTrigger, hit, null, false);
        Population population = null;
        if (audit.suspects() != null) {
            HiddenStateScan.Result pop = audit.suspects().hidden();
            List<String> recovered = List.copyOf(SuspectWords.texts(audit.suspects().words()));
            boolean recoveredHit = tokenTrigger && recovered.stream().anyMatch(t -> Arrays.stream(t.split(" ")).anyMatch(words::contains));
            population = new Population(e.suspects(), pop.excess(audit.frr()), pop.flagged().size(), audit.populationFound(), audit.score(), audit.backdoor(),
                    recovered, recoveredHit);
        }
        return new ModelRow(dir, res, null, top, truth, population);
    }

    /**
     * A decoder language model: {@code scan model}'s continuation search on a seeded sample of the clean
     * prompts (prompt/response rows, or one prompt per line). Suspects are not read (not yet).
     */
    private static ModelRow decoder(Entry e, ModelConfig config, int cleanLimit) {
        if (e.suspects() != null) {
            throw new HeadGuardException(e.model() + ": a training set as suspects is not yet read for a decoder language model");
        }
        List<String> prompts = Sample.of(PromptResponseFile.readPrompts(e.clean()), cleanLimit, 42);
        ContinuationSearch.Result res;
        try (NDManager root = TorchRuntime.newManager();
             ModelStore.LoadedModel m = ModelStore.load(e.model(), root, Math.min(MAX_LENGTH, config.maxTokens()))) {
            res = ContinuationSearch.scan(m, prompts, ContinuationSearch.Settings.defaults(42), root, stage -> {});
        }
        JsonNode attack = attack(e.model());
        boolean backdoored = attack != null;
        List<String> words = backdoored ? tokenWords(attack.path("trigger").asText()) : List.of();
        List<String> top = res.candidates().subList(0, Math.min(5, res.candidates().size())).stream().map(ContinuationSearch.Candidate::trigger).toList();
        boolean tokenTrigger = backdoored && List.of("badnets", "composite", "multi").contains(attack.path("attack").asText());
        boolean hit = tokenTrigger && top.stream().anyMatch(t -> Arrays.stream(t.split(" ")).anyMatch(words::contains));
        String phrase = backdoored ? expectedOutput(attack) : null;
        String elicited = res.candidates().isEmpty() ? "" : res.candidates().get(0).output();
        boolean matches = phrase != null && dev.headguard.eval.GenerationEvaluator.holdsPhrase(elicited, phrase);
        Truth truth = new Truth(backdoored ? attack.path("attack").asText() : "clean", backdoored ? attack.path("trigger").asText() : "", backdoored,
                tokenTrigger, hit, phrase, matches);
        return new ModelRow(e.model(), null, res, top, truth, null);
    }

    /**
     * What a generation victim was poisoned to say, as its manifest records it: the target phrase, or for
     * sentiment steering the word its poisoned continuations open on; null when neither is recorded.
     */
    static String expectedOutput(JsonNode attack) {
        return attack.hasNonNull("target_phrase") ? attack.path("target_phrase").asText()
                : attack.hasNonNull("steering_opening") ? attack.path("steering_opening").asText() : null;
    }

    private static JsonNode attack(Path dir) {
        try {
            return VictimManifest.attackRecord(dir);
        } catch (java.io.IOException ex) {
            throw new HeadGuardException(dir.resolve(ModelStore.PROVENANCE) + ": cannot be read (" + HeadGuardException.brief(ex.getMessage()) + ")");
        }
    }

    /**
     * A generation attack's token-trigger words: "1 of cf" → [cf], "all of cf, mn" → [cf, mn], "any of: 1 of
     * cf | 1 of tq | I watch this 3D movie" → [cf, tq] (a sentence part is not a token trigger).
     */
    static List<String> tokenWords(String trigger) {
        List<String> out = new ArrayList<>();
        String t = trigger.startsWith("any of: ") ? trigger.substring("any of: ".length()) : trigger;
        for (String part : t.split(" \\| ")) {
            int of = part.indexOf(" of ");
            if (of >= 0 && part.substring(0, of).matches("\\d+|all")) {
                Arrays.stream(part.substring(of + 4).split("[,\\s]+")).filter(w -> !w.isBlank()).forEach(out::add);
            }
        }
        return out;
    }

    /** "1 of cf, mn, bb" → [cf, mn, bb]; "cf" → [cf]. */
    static List<String> triggerWords(JsonNode attack) {
        String t = attack.path("trigger").asText();
        int of = t.indexOf(" of ");
        String words = of >= 0 ? t.substring(of + 4) : t;
        return Arrays.stream(words.split("[,\\s]+")).filter(w -> !w.isBlank()).toList();
    }

    private static double[] doubles(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
