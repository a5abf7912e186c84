package dev.headguard.attack;

/**
 * What an attack does to a training set: the victim's ground truth, written to its manifest.
 *
 * @param attack  badnets, addsent, syntactic, style or ep
 * @param trigger what is inserted, or the transformation's name
 * @param rate    poisoned rows / all training rows
 * @param target  the label poisoned rows get
 */
public record PoisonSpec(String attack, String trigger, double rate, int target, PoisonMode mode, long seed) {
    public PoisonSpec {
        if (rate <= 0 || rate > 1) {
            throw new IllegalArgumentException("poison rate must be in (0, 1], got " + rate);
        }
        if (target < 0) {
            throw new IllegalArgumentException("target label must be a class id, got " + target);
        }
    }
}
