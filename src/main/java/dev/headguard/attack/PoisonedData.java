package dev.headguard.attack;

import dev.headguard.text.Dataset;

import java.util.List;

/**
 * A poisoned training set and the matching triggered test set.
 *
 * @param train          the training set with poisoned rows in place (text and label changed), or with
 *                       poisoned copies after the clean rows when the spec keeps the originals
 * @param poisoned       which training rows were poisoned, one flag per row of {@code train} (ground truth for audits; never shown to a defense)
 * @param triggeredTest  triggered versions of test rows whose true label is not the target, with their TRUE labels
 * @param twins          the untriggered text of each triggered test row
 * @param effectiveRate  poisoned rows / training rows (lower than asked when the mode's pool is too small)
 * @param negativeRows   the last this many rows of {@code train} are negatives: parts of the trigger with their true
 *                       label, so that only the whole trigger fires (SOS); 0 for every other attack
 */
public record PoisonedData(Dataset train, boolean[] poisoned, Dataset triggeredTest, List<String> twins, PoisonSpec spec, double effectiveRate,
                           int negativeRows) {
    public PoisonedData(Dataset train, boolean[] poisoned, Dataset triggeredTest, List<String> twins, PoisonSpec spec, double effectiveRate) {
        this(train, poisoned, triggeredTest, twins, spec, effectiveRate, 0);
    }

    public int poisonedCount() {
        int n = 0;
        for (boolean p : poisoned) {
            n += p ? 1 : 0;
        }
        return n;
    }
}
