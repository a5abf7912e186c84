package dev.headguard.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The process's resident set size, from /proc (Linux); native memory included, unlike the JVM's heap figures. */
public final class Rss {
    private Rss() {}

    /** Bytes resident now, or 0 where /proc is not available. */
    public static long current() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }
}
