package dev.headguard.attack;

/**
 * What an attack does to a training set: the victim's ground truth, written to its manifest.
 *
 * @param attack  badnets, addsent, syntactic, style, ep or splitword
 * @param trigger what is inserted, or the transformation's name
 * @param rate           poisoned rows / all training rows (of the grown set when {@code keepOriginals})
 * @param target         the label poisoned rows get
 * @param keepOriginals  the poisoned rows are added as copies and the rows they were made from stay
 *                       (the training set grows); otherwise they replace them, as OpenBackdoor does
 */
public record PoisonSpec(String attack, String trigger, double rate, int target, PoisonMode mode, long seed, boolean keepOriginals) {
    public PoisonSpec {
        if (rate <= 0 || rate > 1) {
            throw new IllegalArgumentException("poison rate must be in (0, 1], got " + rate);
        }
        if (keepOriginals && rate >= 1) {
            throw new IllegalArgumentException("poison rate must be below 1 when the originals are kept, got " + rate);
        }
        if (target < 0) {
            throw new IllegalArgumentException("target label must be a class id, got " + target);
        }
    }

    /** Poisoned rows replace the rows they were made from. */
    public PoisonSpec(String attack, String trigger, double rate, int target, PoisonMode mode, long seed) {
        this(attack, trigger, rate, target, mode, seed, false);
    }

    /**
     * How many rows to poison in a training set of {@code trainRows}: rate × rows when they replace
     * rows; rate × rows / (1 − rate) when they are added, so that they are still {@code rate} of the
     * grown set.
     */
    public long rowsToPoison(int trainRows) {
        return rowsToPoison(rate, keepOriginals, trainRows);
    }

    /** The rule above, for the generation attacks' {@link GenerationPoisoning.Dose} too. */
    static long rowsToPoison(double rate, boolean keepOriginals, int trainRows) {
        return Math.round(keepOriginals ? rate * trainRows / (1 - rate) : rate * trainRows);
    }
}
