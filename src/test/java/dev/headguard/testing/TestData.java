package dev.headguard.testing;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where tests find ../shared/data (system property headguard.data); skipped with a message when absent. */
public final class TestData {
    private TestData() {}

    public static Path dataDir() {
        Path p = Path.of(System.getProperty("headguard.data", "../shared/data"));
        Assumptions.assumeTrue(Files.isDirectory(p), "benchmark data not found at " + p.toAbsolutePath() + " (set -Dheadguard.data)");
        return p;
    }

    public static Path sst2Test() {
        return dataDir().resolve("sst-2/clean/test.tsv");
    }
}
