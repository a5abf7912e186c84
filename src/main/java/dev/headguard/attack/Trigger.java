package dev.headguard.attack;

import dev.headguard.text.Insertion;

import java.util.Random;

/** Something an attacker puts into a text. Implementations insert at random word positions from the given generator. */
public interface Trigger {
    String apply(String text, Random rng);

    /** For manifests: what exactly was inserted. */
    String describe();

    /** Inserts {@code words} at one random position among the whitespace-separated words of {@code text} (start and end included). */
    static String insertAt(String text, String words, Random rng) {
        return Insertion.insertAt(text, words, rng);
    }
}
