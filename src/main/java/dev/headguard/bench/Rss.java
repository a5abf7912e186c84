package dev.headguard.bench;

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

    /**
     * Bytes the JVM has committed for its heap and its own non-heap areas (metaspace, code cache):
     * an upper bound on the RSS the JVM itself accounts for (committed heap pages are resident only once
     * touched, unless the heap is pre-touched), so the RSS beyond it is at most the native memory.
     */
    public static long jvmCommitted() {
        java.lang.management.MemoryMXBean m = java.lang.management.ManagementFactory.getMemoryMXBean();
        return m.getHeapMemoryUsage().getCommitted() + m.getNonHeapMemoryUsage().getCommitted();
    }
}
