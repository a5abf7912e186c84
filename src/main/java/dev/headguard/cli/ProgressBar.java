package dev.headguard.cli;

import dev.headguard.repair.Defense;
import dev.headguard.train.Trainer;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Training progress on stderr: a bar redrawn in place on a terminal, a line per 5% otherwise (logs,
 * CI); stages as lines, each with the seconds since the bar was made, so a log shows where the time went.
 */
final class ProgressBar implements Defense.Progress, dev.headguard.train.GenerationTuning.Listener {
    private final PrintStream err = System.err;
    private final boolean terminal = System.console() != null;
    private double smoothed = Double.NaN;
    private long lastPrintedPercent = -1;
    private final long started = System.nanoTime();

    @Override
    public void onStep(Trainer.Progress p) {
        smoothed = Double.isNaN(smoothed) ? p.loss() : 0.95 * smoothed + 0.05 * p.loss();
        long percent = 100 * p.step() / p.totalSteps();
        String line = String.format(Locale.ROOT, "epoch %d/%d  step %d/%d  loss %.4f  lr %.2e  %.1f sent/s  ETA %s",
                p.epoch(), p.epochs(), p.step(), p.totalSteps(), smoothed, p.learningRate(), p.sentencesPerSecond(), eta(p.etaSeconds()));
        if (terminal) {
            int width = 24;
            int filled = (int) (width * p.step() / p.totalSteps());
            err.print("\r[" + "#".repeat(filled) + " ".repeat(width - filled) + "] " + line + "   ");
            err.flush();
        } else if (percent / 5 != lastPrintedPercent / 5 || p.step() == p.totalSteps()) {
            err.println(line);
        }
        lastPrintedPercent = percent;
    }

    @Override
    public void stage(String message) {
        err.printf(Locale.ROOT, "[%4.0f s] %s%n", (System.nanoTime() - started) / 1e9, message);
    }

    @Override
    public void onEpoch(Trainer.Epoch e) {
        if (terminal) {
            err.println();
        }
        err.printf(Locale.ROOT, "epoch %d: mean loss %.4f%s, %.0f s, %.1f sentences/s, %.1f GFLOP/s%n", e.epoch(), e.meanLoss(),
                (Double.isNaN(e.devAccuracy()) ? "" : String.format(Locale.ROOT, ", dev accuracy %.4f", e.devAccuracy()))
                        + (Double.isNaN(e.devAsr()) ? "" : String.format(Locale.ROOT, ", triggered dev ASR %.4f", e.devAsr())), e.seconds(),
                e.sentencesPerSecond(), e.gflopPerSecond());
    }

    @Override
    public void onDevPerplexity(int epoch, double perplexity) {
        if (!Double.isNaN(perplexity)) {
            stage(String.format(Locale.ROOT, epoch == 0 ? "before training: dev response perplexity %2$.2f" : "epoch %d: dev response perplexity %.2f",
                    epoch, perplexity));
        }
    }

    static String eta(double s) {
        long t = Math.round(s);
        return t >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", t / 3600, t / 60 % 60) : String.format(Locale.ROOT, "%dm%02ds", t / 60, t % 60);
    }
}
