package dev.headguard.detect.hidden;

import dev.headguard.detect.attention.InputScanner;

/**
 * Scores a batch of inputs (a training set, a day of logged traffic) with whichever of HeadGuard's
 * two input detectors the batch itself shows to be seeing the backdoor: the attention scan
 * ({@link InputScanner}, per input: token triggers) or the population scan of the same batch
 * ({@link HiddenStateScan}: implicit triggers, syntax and style, and triggers whose heads stay calm).
 *
 * <p>The rule: both detectors are calibrated on the same clean texts at the same false-rejection
 * rate, so on a batch of clean inputs each flags about that rate; whatever a detector flags beyond it
 * is what it sees of a trigger. So the detector that flags more of the batch is the one that sees
 * more of it, and its scores rank the batch. The population scan is eligible only when it finds a
 * population (more than {@link HiddenStateScan#MIN_EXCESS} times the rate among inputs predicted
 * as one class): otherwise its direction is sampling noise. No label and no trigger are used.
 *
 * <p>Why choose rather than combine: the two detectors fail on different attacks, and a union of
 * both at half the rate each ({@link CombinedFilter}) carries the weaker one's false alarms into every
 * ranking; choosing keeps the stronger one's (figures in docs/how-it-works.md and docs/results.md).
 *
 * @param population       true when the population scan's scores were chosen
 * @param scores           per input, the chosen detector's margin above its threshold: flagged above
 *                         0; attention scores in units of the clean calibration scores' standard
 *                         deviation, population margins as {@link HiddenStateScan.Result#margins()}
 *                         (−∞ for inputs not predicted as its target class)
 * @param attentionFlagged inputs the attention scan flags
 * @param populationFlagged inputs the population scan flags (0 when it found no population)
 */
public record BatchAudit(boolean population, double[] scores, int attentionFlagged, int populationFlagged) {

    /** The chosen detector: "attention" or "population". */
    public String chosen() {
        return population ? "population" : "attention";
    }

    public int flaggedCount() {
        int n = 0;
        for (double v : scores) {
            n += v > 0 ? 1 : 0;
        }
        return n;
    }

    /**
     * @param attention the scores {@code scanner} gives the batch
     * @param pop       the population scan of the same batch, at the scanner's false-rejection rate
     */
    public static BatchAudit choose(InputScanner scanner, double[] attention, int[] predicted, HiddenStateScan.Result pop) {
        return choose(scanner.margins(attention, predicted), scanner.settings().frr(), pop);
    }

    /** @param attention the attention scan's margins of the batch ({@link InputScanner#margins}: flagged above 0) */
    static BatchAudit choose(double[] attention, double frr, HiddenStateScan.Result pop) {
        if (attention.length != pop.margins().length) {
            throw new IllegalArgumentException("the two scans scored " + attention.length + " and " + pop.margins().length + " inputs: not one batch");
        }
        int attentionFlagged = 0;
        for (double v : attention) {
            attentionFlagged += v > 0 ? 1 : 0;
        }
        int popFlagged = pop.found(frr, HiddenStateScan.MIN_EXCESS) ? pop.flagged().size() : 0;
        return popFlagged > attentionFlagged
                ? new BatchAudit(true, pop.margins().clone(), attentionFlagged, popFlagged)
                : new BatchAudit(false, attention.clone(), attentionFlagged, popFlagged);
    }
}
