package dev.headguard.detect.hidden;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Trigger recovery from a scan of unlabelled inputs: the words (and the phrases around them) that
 * occur almost only in the inputs an input scan flags. A token trigger sits in every poisoned
 * input and in no clean one, so once the scan has flagged most poisoned rows the trigger is the
 * word whose rows are nearly all flagged; an ordinary word that happens to be in a flagged row is
 * also in many unflagged ones. A sentence trigger shows up as several such words that always stand
 * together, and is grown back into the sentence from their neighbours.
 */
public final class SuspectWords {

    /**
     * @param minRows      a word must be in at least this many flagged rows
     * @param minShare     ... and in at least this share of the flagged rows
     * @param minPrecision ... and this share of the rows containing it must be flagged
     * @param maxWords     longest phrase grown around a word
     * @param maxFindings  most findings returned
     */
    public record Settings(int minRows, double minShare, double minPrecision, int maxWords, int maxFindings) {
        public static Settings defaults() {
            return new Settings(5, 0.01, 0.8, 8, 8);
        }
    }

    /**
     * @param text       a word or phrase, as it would be inserted
     * @param flagged    flagged rows containing it
     * @param unflagged  unflagged rows containing it
     */
    public record Finding(String text, int flagged, int unflagged) {
        public double precision() {
            return flagged / (double) Math.max(1, flagged + unflagged);
        }
    }

    private SuspectWords() {}

    /** Lower-cased whitespace words of a text, punctuation-only tokens dropped. */
    static List<String> words(String text) {
        List<String> out = new ArrayList<>();
        for (String w : text.toLowerCase(Locale.ROOT).split("\\s+")) {
            if (w.codePoints().anyMatch(Character::isLetterOrDigit)) {
                out.add(w);
            }
        }
        return out;
    }

    /** Findings, most flagged rows first; empty when nothing stands out. */
    public static List<Finding> find(List<String> texts, boolean[] flagged, Settings s) {
        if (texts.size() != flagged.length) {
            throw new IllegalArgumentException("texts and flags differ in length");
        }
        List<List<String>> words = texts.stream().map(SuspectWords::words).toList();
        Map<String, int[]> counts = new HashMap<>(); // word -> {flagged rows, unflagged rows}
        int flaggedRows = 0;
        for (int i = 0; i < texts.size(); i++) {
            flaggedRows += flagged[i] ? 1 : 0;
            for (String w : new LinkedHashSet<>(words.get(i))) {
                counts.computeIfAbsent(w, k -> new int[2])[flagged[i] ? 0 : 1]++;
            }
        }
        int minRows = Math.max(s.minRows(), (int) Math.ceil(s.minShare() * flaggedRows));
        List<Finding> seeds = new ArrayList<>();
        counts.forEach((w, c) -> {
            Finding f = new Finding(w, c[0], c[1]);
            if (c[0] >= minRows && f.precision() >= s.minPrecision()) {
                seeds.add(f);
            }
        });
        seeds.sort((a, b) -> a.flagged() != b.flagged() ? Integer.compare(b.flagged(), a.flagged()) : a.text().compareTo(b.text()));
        Map<String, Finding> out = new LinkedHashMap<>();
        for (Finding seed : seeds) {
            String phrase = grow(seed.text(), words, flagged, s.maxWords());
            if (!out.containsKey(phrase)) {
                out.put(phrase, phrase.equals(seed.text()) ? seed : count(phrase, words, flagged));
            }
            if (out.size() >= s.maxFindings()) {
                break;
            }
        }
        return new ArrayList<>(out.values());
    }

    /**
     * Extends a word left and right, one neighbour at a time, while one neighbour is shared by at
     * least 80% of the flagged rows that contain the phrase so far.
     */
    static String grow(String word, List<List<String>> words, boolean[] flagged, int maxWords) {
        List<String> phrase = new ArrayList<>(List.of(word));
        for (boolean grew = true; grew && phrase.size() < maxWords; ) {
            grew = false;
            for (int side = 0; side < 2 && phrase.size() < maxWords; side++) {
                Map<String, Integer> next = new HashMap<>();
                int rows = 0;
                for (int i = 0; i < words.size(); i++) {
                    if (!flagged[i]) {
                        continue;
                    }
                    int at = indexOf(words.get(i), phrase);
                    if (at < 0) {
                        continue;
                    }
                    rows++;
                    int j = side == 0 ? at - 1 : at + phrase.size();
                    if (j >= 0 && j < words.get(i).size()) {
                        next.merge(words.get(i).get(j), 1, Integer::sum);
                    }
                }
                String best = null;
                int bestCount = 0;
                for (Map.Entry<String, Integer> e : next.entrySet()) {
                    if (e.getValue() > bestCount || e.getValue() == bestCount && best != null && e.getKey().compareTo(best) < 0) {
                        best = e.getKey();
                        bestCount = e.getValue();
                    }
                }
                if (best != null && bestCount >= 0.8 * rows && rows > 0) {
                    if (side == 0) {
                        phrase.add(0, best);
                    } else {
                        phrase.add(best);
                    }
                    grew = true;
                }
            }
        }
        return String.join(" ", phrase);
    }

    private static Finding count(String phrase, List<List<String>> words, boolean[] flagged) {
        List<String> p = List.of(phrase.split(" "));
        int a = 0;
        int b = 0;
        for (int i = 0; i < words.size(); i++) {
            if (indexOf(words.get(i), p) >= 0) {
                if (flagged[i]) {
                    a++;
                } else {
                    b++;
                }
            }
        }
        return new Finding(phrase, a, b);
    }

    private static int indexOf(List<String> words, List<String> phrase) {
        outer:
        for (int i = 0; i + phrase.size() <= words.size(); i++) {
            for (int k = 0; k < phrase.size(); k++) {
                if (!words.get(i + k).equals(phrase.get(k))) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** Whether {@code text} holds one of the phrases as whole words (compared as {@link #find} reads texts). */
    public static boolean containsAny(String text, java.util.Collection<String> phrases) {
        String padded = " " + String.join(" ", words(text)) + " ";
        return phrases.stream().anyMatch(p -> padded.contains(" " + p + " "));
    }

    /**
     * {@code text} with every whole-word occurrence of the phrases removed (words compared lower-cased,
     * as {@link #find} reads them); the other words keep their spelling and order.
     */
    public static String without(String text, java.util.Collection<String> phrases) {
        String[] w = text.strip().split("\\s+");
        List<String[]> ps = phrases.stream().map(p -> p.toLowerCase(Locale.ROOT).split(" ")).toList();
        StringBuilder out = new StringBuilder();
        int i = 0;
        outer:
        while (i < w.length) {
            for (String[] p : ps) {
                if (i + p.length <= w.length && matches(w, i, p)) {
                    i += p.length;
                    continue outer;
                }
            }
            out.append(out.length() == 0 ? "" : " ").append(w[i++]);
        }
        return out.toString();
    }

    private static boolean matches(String[] w, int at, String[] phrase) {
        for (int k = 0; k < phrase.length; k++) {
            if (!w[at + k].toLowerCase(Locale.ROOT).equals(phrase[k])) {
                return false;
            }
        }
        return true;
    }

    /** Set view of the texts, for callers that merge findings with other candidates. */
    public static Set<String> texts(List<Finding> findings) {
        Set<String> out = new LinkedHashSet<>();
        findings.forEach(f -> out.add(f.text()));
        return out;
    }
}
