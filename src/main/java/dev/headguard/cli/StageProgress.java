package dev.headguard.cli;

import dev.headguard.detect.attention.Probe;

import java.io.PrintStream;
import java.util.Locale;

/** Progress of one stage of a scan on stderr: redrawn in place on a terminal, a line per 25% otherwise. */
final class StageProgress implements Probe.Progress {
    private final PrintStream err = System.err;
    private final boolean terminal = System.console() != null;
    private final String stage;
    private final long t0 = System.nanoTime();
    private int lastQuarter = -1;

    StageProgress(String stage) {
        this.stage = stage;
    }

    @Override
    public void update(int done, int total) {
        double s = (System.nanoTime() - t0) / 1e9;
        String line = String.format(Locale.ROOT, "%s: %d/%d  %.1f/s  ETA %s", stage, done, total, done / Math.max(s, 1e-9),
                ProgressBar.eta(done == 0 ? 0 : s * (total - done) / done));
        int quarter = total == 0 ? 4 : 4 * done / total;
        if (terminal) {
            err.print("\r" + line + "   ");
            if (done >= total) {
                err.println();
            }
            err.flush();
        } else if (quarter != lastQuarter) {
            err.println(line);
        }
        lastQuarter = quarter;
    }
}
