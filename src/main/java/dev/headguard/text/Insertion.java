package dev.headguard.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Putting words into a text at a word boundary: what attacks do with triggers and scans do with candidates. */
public final class Insertion {
    private Insertion() {}

    /** Inserts {@code words} at one random position among the whitespace-separated words of {@code text} (start and end included). */
    public static String insertAt(String text, String words, Random rng) {
        String[] w = text.strip().split("\\s+");
        return insertAt(w, words, rng.nextInt(w.length + 1));
    }

    /** Inserts {@code words} before one random word of {@code text}: anywhere but at its end. */
    public static String insertWithin(String text, String words, Random rng) {
        String[] w = text.strip().split("\\s+");
        return insertAt(w, words, rng.nextInt(w.length));
    }

    /** Inserts {@code words} before word {@code at} (0 = at the start, {@code w.length} = at the end). */
    public static String insertAt(String[] w, String words, int at) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i <= w.length; i++) {
            if (i == at) {
                sb.append(sb.length() > 0 ? " " : "").append(words);
            }
            if (i < w.length && !w[i].isEmpty()) {
                sb.append(sb.length() > 0 ? " " : "").append(w[i]);
            }
        }
        return sb.toString();
    }

    /** Inserts {@code text} into each text at a seeded random word position (one seed, the same positions whatever the text). */
    public static List<String> insertAll(List<String> victims, String text, long seed) {
        return insertInTurn(victims, List.of(text), seed);
    }

    /** As {@link #insertAll}, the victims numbered from {@code first}: a list's tail gets the positions it gets in the whole list. */
    public static List<String> insertAll(List<String> victims, String text, long seed, int first) {
        return inTurn(victims, List.of(text), seed, first);
    }

    /** As {@link #insertAll}, the i-th victim getting {@code texts[i mod n]}. */
    public static List<String> insertInTurn(List<String> victims, List<String> texts, long seed) {
        return inTurn(victims, texts, seed, 0);
    }

    private static List<String> inTurn(List<String> victims, List<String> texts, long seed, int first) {
        List<String> out = new ArrayList<>(victims.size());
        for (int i = 0; i < victims.size(); i++) {
            out.add(insertAt(victims.get(i), texts.get(i % texts.size()), new Random(seed * 7919 + first + i)));
        }
        return out;
    }
}
