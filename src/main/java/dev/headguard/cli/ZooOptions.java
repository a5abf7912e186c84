package dev.headguard.cli;

import dev.headguard.AtomicFiles;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The options of a zoo scan, {@code bench zoo}'s and the Spark module's {@code audit-zoo}. */
final class ZooOptions {
    @Option(names = "--list", required = true, paramLabel = "FILE", description = {"TSV without header: model directory, clean set file, and optionally the model's training set",
            "(unlabelled suspects for the population scan: a second verdict score, the larger of the two)."})
    Path list;

    @Option(names = "--clean-limit", defaultValue = "200", description = "Clean texts per scan, a seeded sample (default: ${DEFAULT-VALUE}).")
    int cleanLimit;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.")
    Path json;

    /** Refuses a bad limit or --json path before any scan. */
    void check() {
        OptionChecks.atLeast("--clean-limit", cleanLimit, 0);
        if (json != null) {
            AtomicFiles.checkFile(json, "--json");
        }
    }
}
