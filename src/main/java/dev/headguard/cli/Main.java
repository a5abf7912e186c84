package dev.headguard.cli;

import dev.headguard.BuildInfo;
import dev.headguard.HeadGuardException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/**
 * The {@code headguard} command. Exit codes: 0 success, 2 bad input or usage (one line on
 * stderr), 1 an internal error (one line; set HEADGUARD_DEBUG=1 for the stack trace).
 */
@Command(name = "headguard", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, scope = CommandLine.ScopeType.INHERIT, // --help on every subcommand
        description = "Find and remove backdoors in transformer models (text classifiers and decoder language models) through their attention heads.",
        subcommands = {HeadsCommand.class, ImportCommand.class, EmbedCommand.class, GenerateCommand.class, PretrainCommand.class, TrainCommand.class, PoisonCommand.class, AttackCommand.class, EvalCommand.class, ScanCommand.class, RepairCommand.class, DemoCommand.class, ModelsCommand.class, BenchCommand.class})
public final class Main implements java.util.concurrent.Callable<Integer> {
    /** The Spark module's commands ({@link CommandExtension}): named when asked for without it. */
    private static final java.util.Set<String> SPARK_COMMANDS = java.util.Set.of("audit", "audit-zoo");

    /** Exit status of a scan that found what --fail-on-detect gates on (1 and 2 are taken by errors). */
    static final int DETECTED = 3;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** No command: usage on stderr, status 2 (a usage error, as the contract says). */
    @Override
    public Integer call() {
        return usageError(spec, "no command given");
    }

    /** One line saying what is missing, then the usage, on stderr; status 2. */
    static int usageError(CommandLine.Model.CommandSpec spec, String problem) {
        PrintWriter err = spec.commandLine().getErr();
        err.println("headguard: " + problem + "; usage:");
        spec.commandLine().usage(err);
        err.flush();
        return 2;
    }

    /** --version: the version and the commit the build came from ({@link BuildInfo}). */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {BuildInfo.describe()};
        }
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs a command line and returns its exit code (tests call this). */
    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new Main());
        for (CommandExtension extension : java.util.ServiceLoader.load(CommandExtension.class)) {
            extension.commands().forEach(cl::addSubcommand);
        }
        if (args.length > 0 && SPARK_COMMANDS.contains(args[0]) && !cl.getSubcommands().containsKey(args[0])) {
            System.err.println("headguard: " + args[0] + " runs on Apache Spark, in the spark module, which this class path lacks: "
                    + "run it through ./headguard (it builds the module), or see docs/spark.md");
            return 2;
        }
        cl.setCaseInsensitiveEnumValuesAllowed(true); // --mode mix, as documented, not only MIX
        cl.setParameterExceptionHandler((ex, a) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("headguard: " + firstLine(ex.getMessage()) + " (see: headguard " + commandPath(ex.getCommandLine()) + "--help)");
            err.flush();
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            if (ex instanceof HeadGuardException) {
                err.println("headguard: " + firstLine(ex.getMessage()));
                err.flush();
                return 2;
            }
            err.println("headguard: internal error: " + ex.getClass().getSimpleName() + ": " + firstLine(String.valueOf(ex.getMessage())));
            if (System.getenv("HEADGUARD_DEBUG") != null) {
                ex.printStackTrace(err);
            }
            err.flush();
            return 1;
        });
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            System.err.println("headguard: out of memory (" + e.getMessage() + ")");
            return 1;
        }
    }

    /** A command's exit code and what it printed. */
    public record Captured(int code, String out, String err) {}

    /**
     * Runs a command line in this process with stdout and stderr captured (tests and the bad-input
     * harness); one at a time, as it swaps the process's streams.
     */
    public static synchronized Captured capture(String... args) {
        java.io.PrintStream oldOut = System.out;
        java.io.PrintStream oldErr = System.err;
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        try {
            System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
            System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
            int code = execute(args);
            return new Captured(code, out.toString(java.nio.charset.StandardCharsets.UTF_8), err.toString(java.nio.charset.StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    private static String commandPath(CommandLine cl) {
        StringBuilder sb = new StringBuilder();
        for (CommandLine c = cl; c.getParent() != null; c = c.getParent()) {
            sb.insert(0, c.getCommandName() + " ");
        }
        return sb.toString();
    }

    static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return (nl < 0 ? s : s.substring(0, nl)).strip();
    }
}
