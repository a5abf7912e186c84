package dev.headguard.cli;

import picocli.CommandLine.Command;


/** {@code scan inputs} and {@code scan model}: trigger-agnostic detection from a small clean set. */
@Command(name = "scan", description = "Detect triggered inputs or a backdoored model from attention-head statistics.",
        subcommands = {ScanInputsCommand.class, ScanModelCommand.class})
final class ScanCommand implements java.util.concurrent.Callable<Integer> {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** No subcommand: usage on stderr and the usage error's status (2), as for any other missing argument. */
    @Override
    public Integer call() {
        return Main.usageError(spec, "scan needs a subcommand, inputs or model");
    }
}
