package dev.headguard.cli;

import picocli.CommandLine.Command;

import java.nio.file.Path;

/** {@code scan inputs} and {@code scan model}: trigger-agnostic detection from a small clean set. */
@Command(name = "scan", description = "Detect triggered inputs or a backdoored model from attention-head statistics.",
        subcommands = {ScanInputsCommand.class, ScanModelCommand.class})
final class ScanCommand implements java.util.concurrent.Callable<Integer> {
    /** Exit status of a scan that found what --fail-on-detect gates on (1 and 2 are taken by errors). */
    static final int DETECTED = 3;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** No subcommand: usage on stderr and the usage error's status (2), as for any other missing argument. */
    @Override
    public Integer call() {
        return Main.usageError(spec, "scan needs a subcommand, inputs or model");
    }

    /** --out and --html, checked before any long work. */
    static void checkFiles(Path out, Path html) {
        if (out != null) {
            dev.headguard.AtomicFiles.checkFile(out, "--out");
        }
        if (html != null) {
            dev.headguard.AtomicFiles.checkFile(html, "--html");
        }
    }
}
