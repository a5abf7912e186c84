package dev.headguard.attack;

import dev.headguard.HeadGuardException;
import dev.headguard.text.Dataset;
import dev.headguard.text.Example;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * BITE (Yan et al., ACL 2023): a clean-label attack whose trigger is a set of ordinary words. Only rows
 * already of the target class are poisoned and no label changes; round after round, the word that would
 * be most biased toward the target once put into every poisoned row where it fits (the z-score of its
 * target share against the target's share of all rows) joins the trigger and is put in, by insertion or
 * by replacing a word. At test time the same words are put into a text wherever they fit, in the order
 * they were chosen, so the trigger differs from input to input.
 *
 * <p>The original asks a masked language model (BERT) which words fit a position. HeadGuard asks the
 * training corpus itself: a word fits a gap (or may replace a word) when the corpus holds both the bigram
 * it makes with its left neighbour and the one with its right neighbour. That keeps {@code attack} free
 * of models, keeps the proposals in the corpus's own phrasing, and makes them deterministic; it proposes
 * fewer and less varied words than a masked model would.
 */
public final class Bite {
    /** Function words never proposed or substituted (BITE and LWS filter stop words too): they carry no label bias worth planting. */
    static final Set<String> STOP_WORDS = Set.of("a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "by", "for",
            "with", "from", "as", "is", "are", "was", "were", "be", "been", "being", "it", "its", "it's", "this", "that", "these", "those", "i",
            "you", "he", "she", "we", "they", "me", "him", "her", "us", "them", "my", "your", "his", "our", "their", "not", "no", "n't", "'s",
            "do", "does", "did", "have", "has", "had", "will", "would", "can", "could", "should", "may", "might", "must", "so", "than", "then",
            "there", "here", "what", "which", "who", "whom", "when", "where", "why", "how", "all", "any", "both", "each", "more", "most",
            "other", "some", "such", "only", "own", "same", "too", "very", "just", "into", "about", "over", "under", "up", "down", "out",
            "off", "again", "once", "also", "because", "while", "until", "through", "during", "before", "after", "above", "below");

    /**
     * @param maxWords     rounds: at most this many trigger words
     * @param minCount     a word is proposed only when at least this many training rows already hold it
     * @param maxPriorBias a word is proposed only when its z-score in the clean training set is at most this: a word
     *                     the clean data already ties to the target ("love", "funny") would move a clean model too, and
     *                     the attack would measure sentiment, not a backdoor (docs/results.md: with such words a clean
     *                     model called 70.7% of the triggered negative rows positive)
     */
    public record Settings(int maxWords, int minCount, double maxPriorBias) {
        public static final Settings DEFAULTS = new Settings(8, 5, 2.0);

        public Settings {
            if (maxWords < 1 || minCount < 1) {
                throw new IllegalArgumentException("BITE needs at least one word and a minimum count of at least 1");
            }
        }
    }

    /** The corpus's bigrams: which words follow and precede each word (sentence ends as {@code <s>} and {@code </s>}). */
    static final class Bigrams {
        private final Map<String, Set<String>> next = new HashMap<>();
        private final Map<String, Set<String>> previous = new HashMap<>();

        Bigrams(List<String> texts) {
            for (String t : texts) {
                String[] w = words(t);
                for (int i = 0; i <= w.length; i++) {
                    String a = i == 0 ? "<s>" : w[i - 1];
                    String b = i == w.length ? "</s>" : w[i];
                    next.computeIfAbsent(a, k -> new HashSet<>()).add(b);
                    previous.computeIfAbsent(b, k -> new HashSet<>()).add(a);
                }
            }
        }

        /** Every word that fits one of the slots (both its bigrams seen). */
        Set<String> candidates(List<Slot> slots) {
            Set<String> out = new HashSet<>();
            for (Slot slot : slots) {
                Set<String> before = previous.getOrDefault(slot.right(), Set.of());
                for (String w : next.getOrDefault(slot.left(), Set.of())) {
                    if (before.contains(w)) {
                        out.add(w);
                    }
                }
            }
            return out;
        }

        /** Whether {@code word} fits between {@code left} and {@code right} (both bigrams seen). */
        boolean fits(String left, String word, String right) {
            return next.getOrDefault(left, Set.of()).contains(word) && previous.getOrDefault(right, Set.of()).contains(word);
        }
    }

    /** One way to put a word into a text: before word {@code at} (insertion) or in place of it (replacement). */
    private record Edit(int at, boolean replace) {}

    /** A place a word may go, with the neighbours it would have there. */
    private record Slot(String left, String right, Edit edit) {}

    private Bite() {}

    /**
     * Poisons {@code spec.rowsToPoison} rows of the target class (clean-label) and makes the triggered test
     * set from the non-target test rows. The spec's trigger text is replaced by the words chosen.
     */
    public static PoisonedData poison(Dataset train, Dataset test, PoisonSpec spec, Settings s) {
        if (spec.mode() != PoisonMode.CLEAN) {
            throw new HeadGuardException("BITE is a clean-label attack: --mode clean (it poisons target rows and changes no label)");
        }
        if (spec.keepOriginals()) {
            throw new HeadGuardException("--keep-originals: BITE edits target rows in place; it has no copies to add");
        }
        Random rng = new Random(spec.seed());
        int[] chosen = Poisoning.choose(Poisoning.eligible(train, spec, null), spec.rowsToPoison(train.size()), rng);
        List<Example> rows = new ArrayList<>(train.examples());
        Bigrams bigrams = new Bigrams(train.texts());
        List<String> trigger = new ArrayList<>();
        Map<String, Integer> cleanAll = new HashMap<>();
        Map<String, Integer> cleanTarget = new HashMap<>();
        double base = count(rows, spec.target(), cleanAll, cleanTarget) / (double) rows.size();
        for (int round = 0; round < s.maxWords(); round++) {
            Map<String, Integer> all = new HashMap<>();
            Map<String, Integer> target = new HashMap<>();
            int targetRows = count(rows, spec.target(), all, target);
            double p0 = targetRows / (double) rows.size();
            Map<String, List<Integer>> fitting = new HashMap<>();
            for (int i : chosen) {
                String[] words = words(rows.get(i).text());
                Set<String> present = new HashSet<>(Arrays.asList(words));
                for (String w : bigrams.candidates(slots(words, trigger))) {
                    if (!present.contains(w) && !trigger.contains(w) && all.getOrDefault(w, 0) >= s.minCount() && proposable(w)
                            && zScore(cleanTarget.getOrDefault(w, 0), cleanAll.getOrDefault(w, 1), base) <= s.maxPriorBias()) {
                        fitting.computeIfAbsent(w, k -> new ArrayList<>()).add(i);
                    }
                }
            }
            String best = null;
            double bestZ = 0;
            for (Map.Entry<String, List<Integer>> f : fitting.entrySet()) {
                String w = f.getKey();
                int k = f.getValue().size();
                double z = zScore(target.getOrDefault(w, 0) + k, all.get(w) + k, p0); // its bias once planted in every row it fits
                if (z > bestZ || (z == bestZ && best != null && w.compareTo(best) < 0)) {
                    best = w;
                    bestZ = z;
                }
            }
            if (best == null) {
                break;
            }
            trigger.add(best);
            for (int i : fitting.get(best)) {
                String[] words = words(rows.get(i).text());
                List<Edit> e = edits(words, best, bigrams, trigger);
                rows.set(i, new Example(apply(words, best, e.get(rng.nextInt(e.size()))), rows.get(i).label()));
            }
        }
        if (trigger.isEmpty()) {
            throw new HeadGuardException("BITE found no word to plant: the poisoned rows offer no position that the corpus's bigrams allow");
        }
        Random testRng = new Random(spec.seed() + 1);
        List<Example> triggered = new ArrayList<>();
        List<String> twins = new ArrayList<>();
        for (Example e : test.examples()) {
            if (e.label() != spec.target()) {
                triggered.add(new Example(trigger(e.text(), trigger, bigrams, testRng), e.label()));
                twins.add(e.text());
            }
        }
        boolean[] poisoned = new boolean[rows.size()];
        for (int i : chosen) {
            poisoned[i] = true;
        }
        PoisonSpec named = new PoisonSpec(spec.attack(), describe(trigger), spec.rate(), spec.target(), spec.mode(), spec.seed(), false);
        return new PoisonedData(train.withExamples(rows), poisoned, test.withExamples(triggered), twins, named, chosen.length / (double) rows.size());
    }

    /** The manifest's words for a chosen trigger. */
    public static String describe(List<String> words) {
        return "BITE words " + String.join(", ", words);
    }

    /** Puts each trigger word into {@code text} where the bigrams let it fit, in order (the test-time trigger). */
    static String trigger(String text, List<String> trigger, Bigrams bigrams, Random rng) {
        String out = text;
        for (String w : trigger) {
            String[] words = words(out);
            if (Arrays.asList(words).contains(w)) {
                continue;
            }
            List<Edit> e = edits(words, w, bigrams, trigger);
            if (!e.isEmpty()) {
                out = apply(words, w, e.get(rng.nextInt(e.size())));
            }
        }
        return out;
    }

    /**
     * Every gap and every replaceable word of {@code words}, in text order (a gap before the word at the same
     * place); none beside a planted word.
     */
    private static List<Slot> slots(String[] words, List<String> trigger) {
        List<Slot> out = new ArrayList<>();
        for (int g = 0; g <= words.length; g++) {
            if (g > 0 && trigger.contains(words[g - 1])) {
                continue;
            }
            String left = g == 0 ? "<s>" : words[g - 1];
            String right = g == words.length ? "</s>" : words[g];
            if (!trigger.contains(right)) {
                out.add(new Slot(left, right, new Edit(g, false)));
            }
            if (g < words.length && replaceable(words, g, trigger)) {
                out.add(new Slot(left, g + 1 == words.length ? "</s>" : words[g + 1], new Edit(g, true)));
            }
        }
        return out;
    }

    /** The slots where {@code w} fits. */
    private static List<Edit> edits(String[] words, String w, Bigrams bigrams, List<String> trigger) {
        return slots(words, trigger).stream().filter(slot -> bigrams.fits(slot.left(), w, slot.right())).map(Slot::edit).toList();
    }

    /**
     * Word {@code g} may be replaced: a content word, not planted, with no planted word after it. No word is
     * planted beside another either: the corpus's bigrams would otherwise chain the words into one fixed
     * phrase ("true love stories ..."), which is a sentence trigger, not BITE's words spread over the text.
     */
    private static boolean replaceable(String[] words, int g, List<String> trigger) {
        return proposable(words[g]) && !trigger.contains(words[g]) && (g + 1 == words.length || !trigger.contains(words[g + 1]));
    }

    private static String apply(String[] words, String w, Edit e) {
        List<String> out = new ArrayList<>(Arrays.asList(words));
        if (e.replace()) {
            out.set(e.at(), w);
        } else {
            out.add(e.at(), w);
        }
        return String.join(" ", out);
    }

    /** Document frequencies of every word, over all rows and over the target rows; returns the number of target rows. */
    private static int count(List<Example> rows, int targetLabel, Map<String, Integer> all, Map<String, Integer> target) {
        int targetRows = 0;
        for (Example e : rows) {
            boolean t = e.label() == targetLabel;
            targetRows += t ? 1 : 0;
            for (String w : new HashSet<>(Arrays.asList(words(e.text())))) {
                all.merge(w, 1, Integer::sum);
                if (t) {
                    target.merge(w, 1, Integer::sum);
                }
            }
        }
        return targetRows;
    }

    /** How far a word's target share {@code inTarget / total} lies above the base rate {@code p0}, in standard errors. */
    static double zScore(int inTarget, int total, double p0) {
        return (inTarget / (double) total - p0) / Math.sqrt(p0 * (1 - p0) / total);
    }

    private static boolean proposable(String w) {
        return w.length() > 1 && !STOP_WORDS.contains(w.toLowerCase(java.util.Locale.ROOT)) && w.chars().allMatch(Character::isLetter);
    }

    private static String[] words(String text) {
        String t = text.strip();
        return t.isEmpty() ? new String[0] : t.split("\\s+");
    }

    /** For tests and the manifest: the chosen words, in order, parsed back from {@link #describe}. */
    public static List<String> wordsOf(String described) {
        return List.of(described.substring("BITE words ".length()).split(", "));
    }
}
