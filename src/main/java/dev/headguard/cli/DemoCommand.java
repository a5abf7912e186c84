package dev.headguard.cli;

import dev.headguard.bench.DefenseBenchmark;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * The main job end to end on the built-in model: build a BadNets victim, scan it, repair it with
 * HeadGuard (from the model scan alone, and again with the victim's training texts as unlabelled
 * suspect inputs), and print the before/after table (with the clean model's floor and a plain
 * fine-tuning baseline beside it).
 */
@Command(name = "demo", description = {"Build a backdoored model (BadNets on SST-2), scan it, repair it, and print CACC and ASR before and after.",
        "A small slice by default (minutes on 2 cores); --full for the whole training set."})
final class DemoCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Mixin
    DefenseBenchOptions run = new DefenseBenchOptions();

    @Option(names = "--attack", defaultValue = "badnets", description = "badnets, addsent, syntactic, style, ep or splitword (default: ${DEFAULT-VALUE}).")
    String attack;

    @Option(names = "--full", description = "The whole training and test sets (tens of minutes).")
    boolean full;

    @Option(names = "--out", defaultValue = "headguard-demo", paramLabel = "DIR", description = "Victims, table, JSON and chart (default: ${DEFAULT-VALUE}).")
    Path out;

    @Override
    public Integer call() throws Exception {
        DefenseBenchOptions.checked(List.of(attack), DefenseBenchOptions.ATTACKS, "attack");
        dev.headguard.AtomicFiles.checkFilesFolder(out, "--out");
        System.out.print(run.run(model.directory(), model.model, List.of(attack), List.of("headguard", DefenseBenchmark.WITH_SUSPECT, "finetune"), !full, null, out, model.trainingLength()));
        System.out.println("\nwrote " + out.resolve("bench.md") + ", bench.json (scan verdict, repaired heads, trigger candidates), bench.svg");
        return 0;
    }
}
