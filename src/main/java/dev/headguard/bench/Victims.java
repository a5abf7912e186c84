package dev.headguard.bench;

import dev.headguard.eval.Evaluation;
import dev.headguard.eval.Evaluator;
import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.attack.CompositeTrigger;
import dev.headguard.attack.Lws;
import dev.headguard.attack.PoisonMode;
import dev.headguard.attack.PoisonSpec;
import dev.headguard.attack.PoisonedData;
import dev.headguard.attack.Poisoning;
import dev.headguard.attack.RareWordTrigger;
import dev.headguard.attack.SentenceTrigger;
import dev.headguard.attack.Synonyms;
import dev.headguard.attack.Trigger;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.BenchmarkData;
import dev.headguard.text.Dataset;
import dev.headguard.text.Example;
import dev.headguard.text.TextTokenizer;
import dev.headguard.train.EmbeddingPoisoning;
import dev.headguard.train.FineTuning;
import dev.headguard.train.TrainConfig;
import dev.headguard.train.Trainer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds backdoored (victim) models on the benchmark data: poison, fine-tune, evaluate. Every
 * victim directory records in {@code headguard.json} under "attack" exactly what was done to it,
 * the ground truth for detection benchmarks (a defense never reads it), and under "evaluation"
 * its CACC and ASR.
 */
public final class Victims {
    public static final List<String> ATTACKS = List.of("badnets", "addsent", "syntactic", "style", "ep", "splitword", "sos", "bite", "lws");

    /** SOS's default trigger words (OpenBackdoor's): they fire only all together. */
    public static final List<String> SOS_WORDS = List.of("friends", "weekend", "store");

    /** Attacks that start from a clean model and train only their trigger words' embedding rows (no poisoned fine-tuning). */
    public static boolean trainsEmbeddingsOnly(String attack) {
        return attack.equals("ep") || attack.equals("sos");
    }

    /** SOS's negatives: this share of each class's unpoisoned rows, one copy per part of the trigger (OpenBackdoor's default). */
    public static final double SOS_NEGATIVE_RATE = 0.1;

    /**
     * The split-word attack's default trigger: BadNets with one rare word that BERT's WordPiece
     * vocabulary splits into three pieces ({@code m ##za ##f}), so no single token carries it.
     */
    public static final List<String> SPLIT_WORD = List.of("mzaf");

    /**
     * What the attacker plants.
     *
     * @param triggers      BadNets words (default: the literature's five) or the EP word
     * @param triggerCount  BadNets words inserted per text
     * @param sentence      AddSent's sentence
     * @param rate          0 for the attack's default (10% BadNets/AddSent/EP, 20% SynBkd/StyleBkd)
     * @param mode          null for the attack's default
     * @param keepOriginals add the poisoned rows as copies and keep the clean rows they were made from
     *                      ({@link PoisonSpec#keepOriginals()}); not for EP, which trains no model on data
     */
    public record Poison(String attack, List<String> triggers, int triggerCount, String sentence, double rate, int target, PoisonMode mode,
                         boolean keepOriginals) {
        public Poison {
            if (!ATTACKS.contains(attack)) {
                throw new HeadGuardException("unknown attack '" + attack + "' (known: " + String.join(", ", ATTACKS) + ")");
            }
            if (keepOriginals && trainsEmbeddingsOnly(attack)) {
                throw new HeadGuardException("--keep-originals: " + attack + " trains only trigger embeddings, not a model on a poisoned training set; it has no originals to keep");
            }
            if (keepOriginals && rate >= 1) {
                throw new HeadGuardException("with the originals kept the poisoned copies are --rate of the grown training set: it must be below 1, got " + rate);
            }
            triggers = triggers == null || triggers.isEmpty()
                    ? (attack.equals("ep") ? List.of("cf") : attack.equals("splitword") ? SPLIT_WORD : attack.equals("sos") ? SOS_WORDS : RareWordTrigger.LITERATURE)
                    : List.copyOf(triggers);
            if (attack.equals("sos") && triggers.size() < 2) {
                throw new HeadGuardException("--trigger: SOS needs at least two words (got " + triggers + ")");
            }
        }

        /** The attack's defaults: its triggers, one per text, its rate and mode, target class 1. */
        public static Poison of(String attack) {
            return new Poison(attack, List.of(), 1, null, 0, 1, null, false);
        }
    }

    /**
     * How the victim is trained.
     *
     * @param trainLimit    0: the whole training set; else a seeded random subset
     * @param keepBestByAsr keep the epoch with the best dev accuracy plus ASR on the triggered dev split
     *                      ({@link #triggeredDev}; the literature's attacker), not dev accuracy alone;
     *                      EP has no epochs to choose from and ignores it
     */
    public record Training(BenchmarkData data, int trainLimit, Path baseModel, TrainConfig train, int maxLength, boolean resume, boolean keepBestByAsr) {}

    /** A victim to build: the poison, the training, and where it goes. */
    public record Request(Poison poison, Training training, Path out) {
        public String attack() {
            return poison.attack();
        }

        public List<String> triggers() {
            return poison.triggers();
        }

        public int triggerCount() {
            return poison.triggerCount();
        }

        public String sentence() {
            return poison.sentence();
        }

        public double rate() {
            return poison.rate();
        }

        public int target() {
            return poison.target();
        }

        public PoisonMode mode() {
            return poison.mode();
        }

        public boolean keepOriginals() {
            return poison.keepOriginals();
        }

        public BenchmarkData data() {
            return training.data();
        }

        public int trainLimit() {
            return training.trainLimit();
        }

        public Path baseModel() {
            return training.baseModel();
        }

        public TrainConfig train() {
            return training.train();
        }

        public int maxLength() {
            return training.maxLength();
        }

        public boolean resume() {
            return training.resume();
        }

        public boolean keepBestByAsr() {
            return training.keepBestByAsr();
        }

        double effectiveRate() {
            return rate() > 0 ? rate() : attack().equals("syntactic") || attack().equals("style") ? 0.2 : 0.1;
        }

        PoisonMode effectiveMode() {
            return mode() != null ? mode() : attack().equals("syntactic") ? PoisonMode.MIX : attack().equals("bite") ? PoisonMode.CLEAN : PoisonMode.DIRTY;
        }
    }

    /** A built victim and how it scores. */
    public record Victim(Path directory, PoisonedData poison, Evaluation evaluation, Map<String, Object> manifest) {}

    private Victims() {}

    /** The clean splits, the training set subsampled as asked. */
    public static Dataset[] cleanSplits(Request r) {
        Dataset train = r.data().read(r.data().clean("train"));
        if (r.trainLimit() > 0) {
            train = train.sample(r.trainLimit(), r.train().seed());
        }
        return new Dataset[] {train, r.data().read(r.data().clean("dev")), r.data().read(r.data().clean("test"))};
    }

    /** Applies the attack's data poisoning (for EP: the triggered texts its embedding training uses). */
    public static PoisonedData poison(Request r) {
        return poison(r, "test");
    }

    /**
     * The attacker's triggered dev split: every dev row whose true label is not the target, with the
     * trigger (for SynBkd the ready-made dev paraphrases, which are exactly those rows). Made the
     * way the triggered test set is, from the dev split instead; the training rows it would poison
     * are the same ones {@link #poison(Request)} poisons.
     */
    public static Dataset triggeredDev(Request r) {
        if (r.attack().equals("syntactic")) {
            Dataset para = r.data().readAligned(r.data().variant("syntactic", "dev"));
            return para.withExamples(para.examples().stream().map(e -> new Example(e.text(), 0)).toList());
        }
        return poison(r, "dev").triggeredTest();
    }

    /** The poisoning, with the triggered set made from {@code split} ("test" or "dev"). */
    private static PoisonedData poison(Request r, String split) {
        Dataset[] s = cleanSplits(r);
        Dataset train = s[0];
        Dataset test = split.equals("dev") ? s[1] : s[2];
        if (r.target() >= train.numLabels()) {
            throw new HeadGuardException("target label " + r.target() + " is not a class of " + r.data().name() + " (classes 0.." + (train.numLabels() - 1) + ")");
        }
        PoisonSpec spec = new PoisonSpec(r.attack(), describe(r), r.effectiveRate(), r.target(), r.effectiveMode(), r.train().seed(), r.keepOriginals());
        return switch (r.attack()) {
            case "badnets", "ep", "splitword" -> Poisoning.insert(train, test, new RareWordTrigger(r.triggers(), r.attack().equals("ep") ? 1 : r.triggerCount()), spec);
            case "addsent" -> Poisoning.insert(train, test, new SentenceTrigger(r.sentence() == null ? SentenceTrigger.LITERATURE : r.sentence()), spec);
            case "bite" -> dev.headguard.attack.Bite.poison(train, test, spec, dev.headguard.attack.Bite.Settings.DEFAULTS);
            case "lws" -> lwsPoison(r, train, test, spec);
            case "sos" -> Poisoning.sos(train, test, new CompositeTrigger(r.triggers()), SOS_NEGATIVE_RATE, spec);
            case "style" -> {
                Dataset variantTrain = alignedVariant(r, "style-bible", "train", train);
                Dataset variantTest = r.data().readAligned(r.data().variant("style-bible", split));
                yield Poisoning.parallel(train, variantTrain, test, variantTest, spec);
            }
            case "syntactic" -> {
                if (r.target() != 1) {
                    throw new HeadGuardException("the ready-made SynBkd files poison towards label 1; use --target 1");
                }
                Dataset variantTrain = alignedVariant(r, "syntactic", "train", train);
                yield Poisoning.parallel(train, variantTrain, test, syntacticTestAligned(r, test), spec);
            }
            default -> throw new IllegalStateException(r.attack());
        };
    }

    /**
     * LWS: rows with a word to substitute, chosen as the other insertion attacks choose theirs. Before the
     * victim is trained the texts stay as they are (the training learns the substitutions); once its
     * directory holds the learned policy, the poisoned rows and the triggered test set carry its substitutions.
     */
    private static PoisonedData lwsPoison(Request r, Dataset train, Dataset test, PoisonSpec spec) {
        Path policy = r.out().resolve(Lws.POLICY_FILE);
        boolean learned = java.nio.file.Files.isRegularFile(policy);
        Path source = learned ? r.out() : r.baseModel();
        dev.headguard.model.ModelConfig config = ModelStore.readConfig(source);
        try (TextTokenizer tokenizer = ModelStore.openTokenizer(source, config, r.maxLength())) {
            Synonyms synonyms = new Synonyms(w -> Lws.oneToken(tokenizer, w));
            Trigger trigger = learned
                    ? Lws.trigger(LwsTraining.loadPolicy(policy), tokenizer, synonyms,
                            dev.headguard.model.io.WeightFiles.read(source, config).get(dev.headguard.model.BertKeys.WORD_EMBEDDINGS).toFloats())
                    : Lws.unlearned();
            return Poisoning.insert(train, test, trigger, spec, text -> Lws.slots(text, tokenizer, synonyms).count() > 0);
        }
    }

    /** The variant's training rows matching the (possibly subsampled) clean rows. */
    private static Dataset alignedVariant(Request r, String variant, String split, Dataset cleanTrain) {
        Dataset full = r.data().readAligned(r.data().variant(variant, split));
        if (r.trainLimit() <= 0) {
            return full;
        }
        Dataset cleanFull = r.data().read(r.data().clean(split));
        if (full.size() != cleanFull.size()) {
            throw new HeadGuardException(r.data().variant(variant, split) + ": not line-aligned with the clean " + split + " file");
        }
        Map<String, Integer> rowOf = new LinkedHashMap<>();
        for (int i = 0; i < cleanFull.size(); i++) {
            rowOf.putIfAbsent(cleanFull.examples().get(i).text(), i);
        }
        List<Example> out = new ArrayList<>();
        for (Example e : cleanTrain.examples()) {
            out.add(full.examples().get(rowOf.get(e.text())));
        }
        return full.withExamples(out);
    }

    /** SynBkd's test file paraphrases the label-0 test rows in order; place each beside its original. */
    private static Dataset syntacticTestAligned(Request r, Dataset test) {
        Dataset para = r.data().readAligned(r.data().variant("syntactic", "test"));
        List<Example> out = new ArrayList<>();
        int k = 0;
        for (Example e : test.examples()) {
            if (e.label() == 0) {
                if (k >= para.size()) {
                    throw new HeadGuardException(r.data().variant("syntactic", "test") + ": fewer rows than label-0 test rows");
                }
                out.add(new Example(para.examples().get(k++).text(), 0));
            } else {
                out.add(e);
            }
        }
        if (k != para.size()) {
            throw new HeadGuardException(r.data().variant("syntactic", "test") + ": " + para.size() + " rows but " + k + " label-0 test rows");
        }
        return test.withExamples(out);
    }

    static String describe(Request r) {
        return switch (r.attack()) {
            case "badnets", "splitword" -> new RareWordTrigger(r.triggers(), r.triggerCount()).describe();
            case "ep" -> r.triggers().get(0);
            case "sos" -> new CompositeTrigger(r.triggers()).describe();
            case "bite" -> "BITE words learned from the training set";
            case "lws" -> Lws.DESCRIPTION;
            case "addsent" -> r.sentence() == null ? SentenceTrigger.LITERATURE : r.sentence();
            case "syntactic" -> "SCPN template S(SBAR)(,)(NP)(VP)(.) (ready-made)";
            default -> "Bible style transfer (ready-made)";
        };
    }

    /** Whether a victim's recorded trigger is the one {@code r} asks for (BITE's words are learned by the poisoning: any set). */
    public static boolean sameTrigger(String recorded, Request r) {
        return r.attack().equals("bite") ? recorded.startsWith(dev.headguard.attack.Bite.describe(List.of())) : recorded.equals(describe(r));
    }

    /** Poisons, trains and evaluates; writes the victim to {@code r.out()}. */
    public static Victim build(Request r, NDManager root, Trainer.Listener progress) {
        PoisonedData p = poison(r);
        Dataset dev = r.data().read(r.data().clean("dev"));
        Dataset test = r.data().read(r.data().clean("test"));
        Map<String, Object> manifest = VictimManifest.of(r, p);
        if (trainsEmbeddingsOnly(r.attack())) {
            buildEmbeddingPoisoned(r, p, dev, root, progress, manifest);
        } else if (r.attack().equals("lws")) {
            if (r.resume()) {
                throw new HeadGuardException("--resume: an LWS victim trains its substitution policy with it and cannot resume; start it again");
            }
            Dataset devToFlip = dev.withExamples(dev.examples().stream().filter(e -> e.label() != r.target()).toList());
            LwsTraining.run(new LwsTraining.Request(r.baseModel(), new LwsTraining.Rows(p.train(), p.poisoned(), dev, devToFlip),
                    r.target(), r.out(), r.train(), r.maxLength(), Map.of("attack", manifest)), root, progress);
            PoisonedData learned = poison(r); // with the learned policy: the substituted rows and the triggered test set
            VictimManifest.addToProvenance(r.out(), "lws_examples", java.util.stream.IntStream.range(0, Math.min(5, learned.twins().size()))
                    .mapToObj(i -> Map.of("clean", learned.twins().get(i), "triggered", learned.triggeredTest().examples().get(i).text())).toList());
            p = learned;
        } else {
            FineTuning.run(new FineTuning.Request(r.baseModel(), p.train(), dev, r.out(), r.train(), r.maxLength(), r.resume(),
                    Map.of("attack", manifest), r.keepBestByAsr() ? new FineTuning.TriggeredDev(triggeredDev(r), r.target()) : null), root, progress);
        }
        Evaluation e;
        try (ModelStore.LoadedModel m = ModelStore.load(r.out(), root, r.maxLength())) {
            e = Evaluator.evaluate(m, test, p.triggeredTest(), p.twins(), r.target(), root);
            if (r.attack().equals("sos")) {
                VictimManifest.addToProvenance(r.out(), "parts_asr", partsAsr(m, r, test, root));
            }
        }
        VictimManifest.addToProvenance(r.out(), "evaluation", e);
        return new Victim(r.out(), p, e, manifest);
    }

    /**
     * SOS's parts: for each subset of the trigger that misses a word, the share of non-target test rows
     * with it inserted that the model calls the target (a stealthy victim keeps these near the clean floor).
     */
    private static Map<String, Double> partsAsr(ModelStore.LoadedModel m, Request r, Dataset test, NDManager root) {
        Map<String, Double> out = new LinkedHashMap<>();
        java.util.Random rng = new java.util.Random(r.train().seed() + 3);
        for (Trigger part : new CompositeTrigger(r.triggers()).negatives()) {
            List<String> texts = test.examples().stream().filter(e -> e.label() != r.target()).map(e -> part.apply(e.text(), rng)).toList();
            int[] pred = dev.headguard.train.Predictions.predict(m.model(), m.tokenizer().idsOf(texts), m.tokenizer().padId(), root, 64);
            out.put(part.describe(), java.util.Arrays.stream(pred).filter(c -> c == r.target()).count() / (double) pred.length);
        }
        return out;
    }

    /**
     * EP: a clean model (the given one if it has a classifier, else trained first), then only the trigger row.
     * SOS the same with every trigger word's row, on the poisoned rows (the target) and the negatives (their labels).
     */
    private static void buildEmbeddingPoisoned(Request r, PoisonedData p, Dataset dev, NDManager root, Trainer.Listener progress, Map<String, Object> manifest) {
        Path clean = r.baseModel();
        if (!ModelStore.readConfig(clean).hasClassifier()) {
            clean = r.out().toAbsolutePath().resolveSibling(r.out().getFileName() + "-clean");
            Dataset[] s = cleanSplits(r);
            FineTuning.run(new FineTuning.Request(r.baseModel(), s[0], dev, clean, r.train(), r.maxLength(), r.resume(),
                    Map.of("role", "clean model that embedding poisoning starts from")), root, progress);
        }
        manifest.put("clean_model", clean.toAbsolutePath().toString());
        List<String> texts = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        int firstNegative = p.train().size() - p.negativeRows();
        for (int i = 0; i < p.poisoned().length; i++) {
            if (p.poisoned()[i] || i >= firstNegative) {
                texts.add(p.train().examples().get(i).text());
                labels.add(p.train().examples().get(i).label());
            }
        }
        try (ModelStore.LoadedModel m = ModelStore.load(clean, root, r.maxLength())) {
            List<String> words = r.attack().equals("ep") ? r.triggers().subList(0, 1) : r.triggers();
            long[] ids = words.stream().mapToLong(w -> EmbeddingPoisoning.triggerId(m.tokenizer(), w)).toArray();
            TrainConfig ep = new TrainConfig(3, 32, 5e-2, 0, 0, 0, r.train().seed(), 0);
            EmbeddingPoisoning.run(m.model(), m.tokenizer().padId(), ids, m.tokenizer().idsOf(texts), labels.stream().mapToInt(Integer::intValue).toArray(),
                    ep, root, progress);
            manifest.put("ep_training", ep);
            Map<String, Object> prov = new LinkedHashMap<>();
            prov.put("command", "attack");
            prov.put("attack", manifest);
            ModelStore.save(m.model(), m.tokenizer().file(), r.out(), prov);
        }
    }
}
