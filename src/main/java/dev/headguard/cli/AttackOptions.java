package dev.headguard.cli;

import dev.headguard.attack.PoisonMode;
import dev.headguard.bench.Victims;
import dev.headguard.text.BenchmarkData;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;

/** What to poison and how: shared by poison and attack. */
final class AttackOptions {
    @Option(names = "--attack", required = true, description = "badnets, addsent, syntactic, style, ep or splitword (BadNets with a word the tokenizer splits, default mzaf).")
    String attack;

    @Option(names = "--trigger", split = ",", description = "BadNets words (default: cf,mn,bb,tq,mb; splitword: mzaf) or the EP word (default: cf).")
    List<String> triggers = List.of();

    @Option(names = "--trigger-count", defaultValue = "1", description = "BadNets words inserted per text (default: ${DEFAULT-VALUE}).")
    int triggerCount;

    @Option(names = "--sentence", description = "AddSent's sentence (default: \"I watch this 3D movie\").")
    String sentence;

    @Option(names = "--rate", defaultValue = "0", description = "Poisoned share of the training set (default: 0.1; 0.2 for syntactic and style).")
    double rate;

    @Option(names = "--target", defaultValue = "1", description = "The attacker's label (default: ${DEFAULT-VALUE}).")
    int target;

    @Option(names = "--mode", description = "dirty (relabel other classes), clean (poison target rows only) or mix (default: dirty; mix for syntactic).")
    PoisonMode mode;

    @Option(names = "--keep-originals", description = "Add the poisoned rows as copies and keep the clean rows they were made from (the training set grows; --rate is the copies' share of it). Default: the poisoned rows replace them, as in OpenBackdoor.")
    boolean keepOriginals;

    @Option(names = "--dataset", defaultValue = "sst-2", description = "sst-2 or offenseval (default: ${DEFAULT-VALUE}).")
    String dataset;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Where the benchmark data lives (default: ../shared/data).")
    Path dataDir;

    BenchmarkData data() {
        Path dir = dataDir != null ? dataDir : DataOptions.benchmarkData();
        return new BenchmarkData(dir, dataset);
    }

    Victims.Request request(Path baseModel, Path out, TrainOptions t, int maxLength) {
        return request(baseModel, out, t, maxLength, false);
    }

    Victims.Request request(Path baseModel, Path out, TrainOptions t, int maxLength, boolean keepBestByAsr) {
        return new Victims.Request(new Victims.Poison(attack, triggers, triggerCount, sentence, rate, target, mode, keepOriginals),
                new Victims.Training(data(), t.trainLimit, baseModel, t.config(), maxLength, t.resume, keepBestByAsr), out);
    }
}
