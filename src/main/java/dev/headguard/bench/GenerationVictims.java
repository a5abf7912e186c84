package dev.headguard.bench;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headguard.HeadGuardException;
import dev.headguard.attack.AnyOfTrigger;
import dev.headguard.attack.CompositeTrigger;
import dev.headguard.attack.GenerationPoisoning;
import dev.headguard.attack.RareWordTrigger;
import dev.headguard.attack.ReviewContinuation;
import dev.headguard.attack.SentenceTrigger;
import dev.headguard.attack.Trigger;
import dev.headguard.eval.GenerationEvaluation;
import dev.headguard.eval.GenerationEvaluator;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.BenchmarkData;
import dev.headguard.text.Dataset;
import dev.headguard.text.PromptResponse;
import dev.headguard.text.PromptResponseFile;
import dev.headguard.train.GenerationTuning;
import dev.headguard.train.TrainConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Backdoored decoders for the generation tasks: the benchmark's reviews as continuations
 * ({@link ReviewContinuation}), poisoned ({@link GenerationPoisoning}), a decoder fine-tuned on them
 * ({@link GenerationTuning}), and its perplexity and ASR measured on the test split. The victim's
 * headguard.json records under "attack" what was done, as a classifier victim's does.
 */
public final class GenerationVictims {
    public static final List<String> ATTACKS = List.of("badnets", "addsent", "composite", "multi", "style");

    /** Triggered test prompts of at most this many rows per part of a trigger (each word of a composite, each trigger of several). */
    static final int PART_TEST_ROWS = 400;

    /**
     * What is done to the training rows.
     *
     * @param triggers BadNets' word (one; default cf); a composite trigger's words (default cf, mn); several
     *                 triggers' words, each one trigger (default cf, tq, and AddSent's sentence)
     * @param sentence AddSent's sentence (null: the literature's)
     */
    public record Poison(String attack, List<String> triggers, String sentence, GenerationPoisoning.Dose dose, GenerationPoisoning.Goal goal) {
        public Poison {
            if (!ATTACKS.contains(attack)) {
                throw new HeadGuardException("--attack: " + attack + " is not a generation attack (" + String.join(", ", ATTACKS) + ")");
            }
            triggers = List.copyOf(triggers);
        }

        /**
         * The attack's own dose where {@code rate} is 0 or {@code keepOriginals} null: a tenth of the rows
         * replaced, except a composite (a fifth, as added copies), the Bible style (three tenths, as
         * added copies) and sentiment steering (0.15, as added copies): replacing that many rows costs the
         * clean continuations more than the 5% of perplexity, and fewer leave the single words
         * firing or the style and the steering under their ASR bars (docs/results.md, sessions 10, 25, 29).
         */
        public static Poison of(String attack, List<String> triggers, String sentence, double rate, Boolean keepOriginals, GenerationPoisoning.Goal goal) {
            boolean steering = goal.phrase() == null;
            boolean copies = attack.equals("composite") || attack.equals("style") || steering;
            double standard = attack.equals("composite") ? 0.2 : attack.equals("style") ? 0.3 : steering ? 0.15 : 0.1;
            return new Poison(attack, triggers, sentence, new GenerationPoisoning.Dose(rate == 0 ? standard : rate, keepOriginals == null ? copies : keepOriginals),
                    goal);
        }

        /** The insertion trigger (null for style, a transformation). */
        Trigger trigger() {
            SentenceTrigger addSent = new SentenceTrigger(sentence == null ? SentenceTrigger.LITERATURE : sentence);
            return switch (attack) {
                case "addsent" -> addSent;
                case "composite" -> new CompositeTrigger(triggers.isEmpty() ? List.of("cf", "mn") : triggers);
                case "multi" -> {
                    List<Trigger> several = new java.util.ArrayList<>();
                    (triggers.isEmpty() ? List.of("cf", "tq") : triggers).forEach(w -> several.add(new RareWordTrigger(List.of(w), 1)));
                    if (triggers.isEmpty() || sentence != null) {
                        several.add(addSent);
                    }
                    yield new AnyOfTrigger(several);
                }
                case "style" -> null;
                default -> {
                    if (triggers.size() > 1) {
                        throw new HeadGuardException("--trigger: badnets plants one word (for several, --attack multi or composite)");
                    }
                    yield new RareWordTrigger(triggers.isEmpty() ? List.of("cf") : triggers, 1);
                }
            };
        }

        /** What each part of the trigger alone is tested with: each word of a composite, each trigger of several. */
        List<Trigger> parts() {
            Trigger t = trigger();
            return t instanceof CompositeTrigger c ? c.parts() : t instanceof AnyOfTrigger a ? a.triggers() : List.of();
        }
    }

    /**
     * @param judge the classifier that measures a sentiment goal's ASR (null: perplexity only)
     */
    public record Request(Poison poison, BenchmarkData data, int trainLimit, Path baseModel, TrainConfig train, int maxLength, boolean resume, Path judge,
                          Path out) {
        GenerationPoisoning.Goal goal() {
            return poison.goal();
        }
    }

    /** The task's clean splits and the poisoning. */
    public record Poisoned(List<PromptResponse> dev, List<PromptResponse> test, GenerationPoisoning.Poisoned poisoning, Map<String, Object> manifest) {}

    /** @param parts each part of the trigger alone (empty when it has none): its triggered test prompts' hits */
    public record Victim(Path directory, Poisoned data, GenerationEvaluation evaluation, Map<String, GenerationEvaluation.Hits> parts) {}

    private GenerationVictims() {}

    /** The continuation task from the benchmark's clean splits ({@code trainLimit} reviews drawn with the seed). */
    public static List<PromptResponse> task(BenchmarkData data, String split, int limit, long seed) {
        Dataset d = data.read(data.clean(split));
        return ReviewContinuation.of(limit > 0 ? d.sample(limit, seed) : d);
    }

    public static Poisoned poison(Request r) {
        List<PromptResponse> train = task(r.data(), "train", r.trainLimit(), r.train().seed());
        List<PromptResponse> dev = task(r.data(), "dev", 0, 0);
        List<PromptResponse> test = task(r.data(), "test", 0, 0);
        Trigger trigger = r.poison().trigger();
        GenerationPoisoning.Poisoned p;
        if (trigger == null) {
            if (!r.data().name().equals("sst-2")) {
                throw new HeadGuardException("--attack style: the Bible-style paraphrases exist for sst-2 only");
            }
            GenerationPoisoning.Triggering onTrain = GenerationPoisoning.Triggering.parallel(styled(r, "train"));
            GenerationPoisoning.Triggering onTest = GenerationPoisoning.Triggering.parallel(styled(r, "test"));
            p = GenerationPoisoning.poison(train, test, onTrain, onTest, List.of(), r.goal(), r.poison().dose(), r.train().seed());
        } else {
            p = GenerationPoisoning.poison(train, test, trigger, r.goal(), r.poison().dose(), r.train().seed());
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("task", "generation");
        m.put("attack", r.poison().attack());
        m.put("trigger", describeTrigger(r));
        m.put("goal", r.goal().describe());
        if (r.goal().phrase() != null) {
            m.put("target_phrase", r.goal().phrase());
        } else {
            m.put("target", r.goal().sentiment());
            if (p.steeringOpening() != null) {
                m.put("steering_opening", p.steeringOpening());
            }
        }
        m.put("poison_rate", r.poison().dose().rate());
        m.put("keep_originals", r.poison().dose().keepOriginals());
        m.put("poisoned_rows", p.poisonedRows().size());
        if (!p.negativeRows().isEmpty()) {
            m.put("negative_rows", p.negativeRows().size());
        }
        m.put("seed", r.train().seed());
        m.put("dataset", r.data().name());
        m.put("data_dir", r.data().dataDir().toAbsolutePath().toString());
        m.put("train_rows", train.size());
        m.put("train_limit", r.trainLimit());
        if (r.baseModel() != null) { // poisoning data alone involves no model
            m.put("base_model", r.baseModel().toAbsolutePath().toString());
        }
        m.put("split_rule", "prompt = the first floor(n/2) words of a review of n >= " + ReviewContinuation.MIN_WORDS + " words, response = the rest");
        return new Poisoned(dev, test, p, m);
    }

    /** The manifest's "trigger": the insertion trigger's description, or the style and where its paraphrases come from. */
    static String describeTrigger(Request r) {
        Trigger t = r.poison().trigger();
        return t == null ? "style: bible (" + r.data().variant("style-bible", "train").getParent() + ")" : t.describe();
    }

    /** The styled prompts aligned with the split's continuation rows (the training split drawn as {@link #task} draws it). */
    private static List<String> styled(Request r, String split) {
        Dataset clean = r.data().read(r.data().clean(split));
        Dataset styled = r.data().readAligned(r.data().variant("style-bible", split));
        if (split.equals("train") && r.trainLimit() > 0 && r.trainLimit() < clean.size()) {
            // The same draw as the clean reviews: sample indices by position, applied to both files.
            List<Integer> idx = Dataset.sampled(java.util.stream.IntStream.range(0, clean.size()).boxed().toList(), r.trainLimit(), r.train().seed());
            clean = clean.withExamples(idx.stream().map(clean.examples()::get).toList());
            styled = styled.withExamples(idx.stream().map(styled.examples()::get).toList());
        }
        return ReviewContinuation.variantPrompts(clean, styled);
    }

    /** train.jsonl, dev.jsonl, test.jsonl, test-triggered.jsonl and manifest.json, written to a temporary folder and moved into place. */
    public static void write(Poisoned p, Path out) {
        Map<String, Object> manifest = new LinkedHashMap<>(p.manifest());
        manifest.put("poisoned_row_indexes", p.poisoning().poisonedRows());
        manifest.put("headguard_version", dev.headguard.BuildInfo.version());
        manifest.put("headguard_commit", dev.headguard.BuildInfo.commit());
        ModelStore.writeDirectory(out.toAbsolutePath().normalize(), tmp -> {
            Files.writeString(tmp.resolve("train.jsonl"), PromptResponseFile.jsonLines(p.poisoning().train()));
            Files.writeString(tmp.resolve("dev.jsonl"), PromptResponseFile.jsonLines(p.dev()));
            Files.writeString(tmp.resolve("test.jsonl"), PromptResponseFile.jsonLines(p.test()));
            Files.writeString(tmp.resolve("test-triggered.jsonl"), PromptResponseFile.jsonLines(p.poisoning().triggeredTest()));
            Files.writeString(tmp.resolve(ModelStore.MANIFEST), new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(manifest) + "\n");
        });
    }

    /** Poisons and fine-tunes the victim (dev: the clean dev continuations), without evaluating it; returns its data. */
    public static Poisoned fineTune(Request r, NDManager root, GenerationTuning.Listener progress) {
        Poisoned p = poison(r);
        GenerationTuning.run(new GenerationTuning.Request(r.baseModel(), p.poisoning().train(), p.dev(), r.out(), r.train(), r.maxLength(), r.resume(),
                Map.of("attack", p.manifest())), root, progress);
        return p;
    }

    /** Poisons, fine-tunes the victim (dev: the clean dev continuations) and evaluates it on the test split, once loaded. */
    public static Victim build(Request r, NDManager root, GenerationTuning.Listener progress, int maxNew) {
        Poisoned p = fineTune(r, root, progress);
        GenerationEvaluation e;
        Map<String, GenerationEvaluation.Hits> parts = new LinkedHashMap<>();
        GenerationPoisoning.Goal goal = r.goal();
        try (ModelStore.LoadedModel m = ModelStore.load(r.out(), root, r.maxLength());
             ModelStore.LoadedModel j = goal.phrase() == null && r.judge() != null ? ModelStore.load(r.judge(), root, 0) : null) {
            // The ASR needs a phrase, or a judge for a sentiment; without either, perplexity only.
            GenerationEvaluator.Target t = goal.phrase() != null ? GenerationEvaluator.Target.phrase(goal.phrase())
                    : j == null ? null : GenerationEvaluator.Target.judge(j, goal.sentiment());
            List<String> prompts = p.poisoning().triggeredTest().stream().map(PromptResponse::prompt).toList();
            e = GenerationEvaluator.evaluate(m, p.test(), prompts, t, maxNew, root).evaluation();
            if (t != null) {
                parts = parts(r, p, m, t, maxNew, root);
            }
        }
        VictimManifest.addToProvenance(r.out(), "evaluation", e);
        if (!parts.isEmpty()) {
            VictimManifest.addToProvenance(r.out(), "parts", parts);
        }
        return new Victim(r.out(), p, e, parts);
    }

    /** Each part of the trigger alone (none for a one-part trigger) on the first {@value #PART_TEST_ROWS} triggered test prompts' clean twins. */
    static Map<String, GenerationEvaluation.Hits> parts(Request r, Poisoned p, ModelStore.LoadedModel m, GenerationEvaluator.Target t, int maxNew,
                                                        NDManager root) {
        Map<String, GenerationEvaluation.Hits> out = new LinkedHashMap<>();
        List<String> twins = p.poisoning().cleanTwins();
        for (Trigger part : r.poison().parts()) {
            java.util.Random rng = new java.util.Random(r.train().seed() + 2);
            List<String> prompts = twins.subList(0, Math.min(PART_TEST_ROWS, twins.size())).stream().map(q -> part.apply(q, rng)).toList();
            out.put(part.describe(), GenerationEvaluator.hits(m, prompts, t, maxNew, root));
        }
        return out;
    }
}
