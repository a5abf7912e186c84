package dev.headguard.cli;

import dev.headguard.bench.fuzz.InputFuzz;
import dev.headguard.model.io.ModelStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code bench fuzz}: the bad-input harness at length (the test suite runs a fixed-seed slice of it). */
@Command(name = "fuzz", description = {"Feed every reader (weights, config, tokenizer, data files, numeric options, output paths) generated corrupt",
        "and hostile inputs and check the bad-input contract on each; prints cases per reader and every violation (exit 1 if any)."})
final class BenchFuzz implements Callable<Integer> {
    @Option(names = "--cases", defaultValue = "200", description = "Cases per reader (default: ${DEFAULT-VALUE}).")
    int cases;

    @Option(names = "--seed", defaultValue = "1", description = "Default: ${DEFAULT-VALUE}.")
    long seed;

    @Override
    public Integer call() throws Exception {
        OptionChecks.atLeast("--cases", cases, 1);
        Path work = Files.createTempDirectory("headguard-fuzz");
        try {
            InputFuzz.Report r = InputFuzz.run(work, seed, cases, BenchFuzz::capture);
            System.out.print(r.table());
            return r.violations().isEmpty() ? 0 : 1;
        } finally {
            ModelStore.deleteRecursively(work);
        }
    }

    /** {@code headguard}'s own command line, in this process, for the harness. */
    static InputFuzz.Run capture(String... args) {
        Main.Captured c = Main.capture(args);
        return new InputFuzz.Run(c.code(), c.out(), c.err());
    }
}
