package dev.headguard.attack;

import java.util.Random;

/** Something an attacker puts into a text. Implementations insert at random word positions from the given generator. */
public interface Trigger {
    String apply(String text, Random rng);

    /** For manifests: what exactly was inserted. */
    String describe();

    /** Inserts {@code words} at one random position among the whitespace-separated words of {@code text} (start and end included). */
    static String insertAt(String text, String words, Random rng) {
        String[] w = text.strip().split("\\s+");
        int at = rng.nextInt(w.length + 1);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i <= w.length; i++) {
            if (i == at) {
                sb.append(sb.length() > 0 ? " " : "").append(words);
            }
            if (i < w.length) {
                sb.append(sb.length() > 0 ? " " : "").append(w[i]);
            }
        }
        return sb.toString();
    }
}
