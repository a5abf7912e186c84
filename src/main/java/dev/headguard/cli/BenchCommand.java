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
        "written to OUT/bench.md, bench.json and bench.svg (the table is also printed)."},
        subcommands = {BenchEncoder.class, BenchMemory.class, BenchTrain.class, BenchDetect.class, BenchZoo.class, BenchFuzz.class})
final class BenchCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Mixin
    DefenseBenchOptions run = new DefenseBenchOptions();

    @Option(names = "--attacks", split = ",", description = "Default: badnets,addsent,syntactic,style,ep,splitword.")
    List<String> attacks = DefenseBenchOptions.ATTACKS;

    @Option(names = "--defenses", split = ",", description = {"Default: headguard,headguard-suspect,finetune,fineprune,pure",
            "(headguard-suspect: HeadGuard also given the victim's training texts, unlabelled, as --suspect inputs)."})
    List<String> defenses = DefenseBenchOptions.DEFENSES;

    @Option(names = "--quick", description = "A small slice: 2000 training rows, batch 16, 300 test rows.")
    boolean quick;

    @Option(names = "--out", defaultValue = "headguard-bench", paramLabel = "DIR", description = "Where the table, JSON and chart go (default: ${DEFAULT-VALUE}).")
    Path out;

    @Override
    public Integer call() throws Exception {
        DefenseBenchOptions.checked(attacks, DefenseBenchOptions.ATTACKS, "attack");
        DefenseBenchOptions.checked(defenses, DefenseBenchOptions.DEFENSES, "defense");
        dev.headguard.AtomicFiles.checkFilesFolder(out, "--out");
        model.checkMaxLength();
        System.out.print(run.run(model.directory(), model.model, attacks, defenses, quick, out, model.trainingLength()));
        System.out.println("\nwrote " + out.resolve("bench.md") + ", bench.json, bench.svg");
        return 0;
    }
}
