package dev.headguard.text;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/** Seeded subsets of lists of texts: the same seed, the same subset. */
public final class Sample {
    private Sample() {}

    /** The first n of a seeded shuffle (all of them, unshuffled, when n <= 0 or n >= size). */
    public static <T> List<T> of(List<T> items, int n, long seed) {
        if (n <= 0 || n >= items.size()) {
            return items;
        }
        List<T> copy = new ArrayList<>(items);
        Collections.shuffle(copy, new Random(seed));
        return List.copyOf(copy.subList(0, n));
    }
}
