package dev.headguard.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * HuggingFace transformers as the test oracle: the virtual environment {@code .ci/run} makes (or
 * {@code HEADGUARD_PYTHON}), and the fixtures {@code scripts/make-hf-fixtures.py} writes into
 * {@code target/hf-fixtures} once per build. Tests that need it are skipped, with a message, when the
 * environment is absent.
 */
public final class HfOracle {
    private static final Path SCRIPT = Path.of("scripts/make-hf-fixtures.py");
    private static final Path FIXTURES = Path.of("target/hf-fixtures");
    private static Path made;

    private HfOracle() {}

    /** The Python with torch and transformers: HEADGUARD_PYTHON, else ~/.cache/headguard/hf-venv. */
    public static Path python() {
        String env = System.getenv("HEADGUARD_PYTHON");
        Path p = env != null ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache/headguard/hf-venv/bin/python");
        Assumptions.assumeTrue(Files.isExecutable(p), "HuggingFace oracle not found at " + p + " (.ci/run makes it; or set HEADGUARD_PYTHON)");
        return p;
    }

    /** The fixtures folder (one subfolder per family), made on first use in this JVM when missing or older than the script. */
    public static synchronized Path fixtures() throws IOException, InterruptedException {
        if (made != null) {
            return made;
        }
        Path python = python();
        Path stamp = FIXTURES.resolve("versions.json");
        if (!Files.exists(stamp) || Files.getLastModifiedTime(stamp).compareTo(Files.getLastModifiedTime(SCRIPT)) < 0) {
            Path data = TestData.dataDir().resolve("sst-2/clean/train.tsv");
            Process p = new ProcessBuilder(python.toString(), SCRIPT.toString(), FIXTURES.toString(), data.toString())
                    .redirectErrorStream(true).redirectOutput(FIXTURES.resolveSibling("hf-fixtures.log").toFile()).start();
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException(SCRIPT + " failed; see target/hf-fixtures.log");
            }
        }
        made = FIXTURES;
        return made;
    }

    /** Runs one of scripts/ with the oracle's Python; fails with its log when it does not end well within 5 minutes. */
    public static void run(Path log, String script, String... args) throws IOException, InterruptedException {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of(python().toString(), "scripts/" + script));
        cmd.addAll(java.util.List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new AssertionError(script + " failed: " + Files.readString(log));
        }
    }
}
