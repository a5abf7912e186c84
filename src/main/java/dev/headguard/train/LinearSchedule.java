package dev.headguard.train;

/**
 * Learning rate with linear warm-up from 0 to {@code peak}, then linear decay to 0 at {@code totalSteps}
 * (HuggingFace's "linear"); or, {@code constant}, {@code peak} at every step.
 */
public record LinearSchedule(double peak, long warmupSteps, long totalSteps, boolean constant) {
    public LinearSchedule {
        if (peak <= 0 || warmupSteps < 0 || totalSteps < 1 || warmupSteps > totalSteps) {
            throw new IllegalArgumentException("bad schedule: peak " + peak + ", warm-up " + warmupSteps + ", total " + totalSteps);
        }
    }

    public LinearSchedule(double peak, long warmupSteps, long totalSteps) {
        this(peak, warmupSteps, totalSteps, false);
    }

    /** The rate for the step numbered {@code step} (1-based). */
    public double rate(long step) {
        if (constant) {
            return peak;
        }
        if (step <= warmupSteps && warmupSteps > 0) {
            return peak * step / warmupSteps;
        }
        return peak * Math.max(0, totalSteps - step) / Math.max(1, totalSteps - warmupSteps);
    }
}
