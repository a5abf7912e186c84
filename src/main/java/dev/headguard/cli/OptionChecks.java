package dev.headguard.cli;

import dev.headguard.HeadGuardException;

/** Numeric option rules, each failure one line that names the option and the value given. */
final class OptionChecks {
    private OptionChecks() {}

    static int atLeast(String option, int value, int min) {
        if (value < min) {
            throw new HeadGuardException(option + " must be at least " + min + " (got " + value + ")");
        }
        return value;
    }

    static int atMost(String option, int value, int max, String why) {
        if (value > max) {
            throw new HeadGuardException(option + " must be at most " + max + ", " + why + " (got " + value + ")");
        }
        return value;
    }

    /** A finite number above zero (NaN and infinities are refused). */
    static double positive(String option, double value) {
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new HeadGuardException(option + " must be a finite number above 0 (got " + value + ")");
        }
        return value;
    }

    /** A finite number at least zero. */
    static double nonNegative(String option, double value) {
        if (!(value >= 0) || Double.isInfinite(value)) {
            throw new HeadGuardException(option + " must be a finite number at least 0 (got " + value + ")");
        }
        return value;
    }

    /** --out and --html files, checked before any long work (either may be null). */
    static void outputFiles(java.nio.file.Path out, java.nio.file.Path html) {
        if (out != null) {
            dev.headguard.AtomicFiles.checkFile(out, "--out");
        }
        if (html != null) {
            dev.headguard.AtomicFiles.checkFile(html, "--html");
        }
    }
}
