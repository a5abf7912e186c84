package dev.headguard.detect.search;

import dev.headguard.detect.attention.Probe;

import ai.djl.ndarray.NDManager;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Dataset;
import dev.headguard.text.Insertion;
import dev.headguard.text.Sample;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The words a model most wants beside a trigger word, and the phrases they make with it.
 *
 * <p>Why: the model scan finds a trigger sentence ("I watch this 3D movie") as its rarest word
 * alone, because that word already flips nearly every input, so no neighbour can raise the flip
 * rate. In log-odds the sentence's other words still add to it, and a repair that unlearns only the
 * word leaves the sentence firing. So every neighbour is scored by how much it raises the target's
 * log-odds beside the word, left and right, on clean inputs of other classes, less what it adds
 * alone (the interaction of the two). The neighbours tried
 * are the clean set's frequent words whose texts lean to no class: a sentiment word of the other
 * class looks like a neighbour too (the trigger overrides it, so beside the word it costs nothing
 * while alone it costs much), and a trigger's own words are ordinary ones a clean model reads as
 * neutral (figures in docs/results.md).
 */
public final class TriggerContext {
    private TriggerContext() {}

    /** A neutral word's texts are of each class at most this far from that class's share of all texts. */
    static final double MAX_LEAN = 0.15;

    /**
     * @param victims  clean inputs of other classes the phrases are scored on (a seeded sample)
     * @param words    the clean set's most frequent neutral words tried as neighbours
     * @param maxLean  a neutral word's texts are of each class at most this far from that class's share of all texts
     * @param perSide  best neighbours kept on each side
     */
    public record Settings(int victims, int words, double maxLean, int perSide, long seed) {
        public static Settings defaults(long seed) {
            return new Settings(16, 100, MAX_LEAN, 3, seed);
        }
    }

    /**
     * @param word    the trigger word grown
     * @param left    the best neighbours before it, best first (each raised the log-odds)
     * @param right   the best neighbours after it
     * @param phrases the word with its i-th best neighbours on both sides, then with each alone
     */
    public record Grown(String word, List<String> left, List<String> right, List<String> phrases) {
        public Grown {
            left = List.copyOf(left);
            right = List.copyOf(right);
            phrases = List.copyOf(phrases);
        }

        /** These phrases, then those of {@code other} not among them (the word and its neighbours stay this one's). */
        public Grown with(Grown other) {
            List<String> all = new ArrayList<>(phrases);
            other.phrases().stream().filter(p -> !all.contains(p)).forEach(all::add);
            return new Grown(word, left, right, all);
        }

        /** Each text with one of the phrases (in turn) at a seeded random word position, as the candidate search inserts. */
        public List<String> carriers(List<String> texts, long seed) {
            return Insertion.insertInTurn(texts, phrases, seed);
        }
    }

    /** Grows {@code word} on the clean inputs not labelled {@code target}. */
    public static Grown grow(ModelStore.LoadedModel model, Dataset clean, String word, int target, Settings s, NDManager root) {
        List<String> others = IntStream.range(0, clean.size()).filter(i -> clean.labels()[i] != target).mapToObj(clean.texts()::get).toList();
        List<String> victims = Sample.of(others, s.victims(), s.seed());
        List<String> neighbours = neutralWords(clean, word, s.words(), s.maxLean());
        if (victims.isEmpty() || neighbours.isEmpty()) {
            return new Grown(word, List.of(), List.of(), List.of(word));
        }
        List<String> texts = new ArrayList<>(victims);
        texts.addAll(Insertion.insertAll(victims, word, s.seed()));
        for (String w : neighbours) {
            texts.addAll(Insertion.insertAll(victims, w, s.seed()));
            texts.addAll(Insertion.insertAll(victims, w + " " + word, s.seed()));
            texts.addAll(Insertion.insertAll(victims, word + " " + w, s.seed()));
        }
        float[][] p = Probe.probabilities(model, texts, root, 64, Probe.Progress.NONE);
        int n = victims.size();
        double base = meanLogOdds(p, 0, n, target);
        double alone = meanLogOdds(p, n, n, target);
        double[] leftGain = new double[neighbours.size()];
        double[] rightGain = new double[neighbours.size()];
        for (int j = 0; j < neighbours.size(); j++) {
            // What the neighbour adds beside the word, less what it adds on its own (its own lean).
            double own = meanLogOdds(p, (2 + 3 * j) * n, n, target) - base;
            leftGain[j] = meanLogOdds(p, (3 + 3 * j) * n, n, target) - alone - own;
            rightGain[j] = meanLogOdds(p, (4 + 3 * j) * n, n, target) - alone - own;
        }
        List<String> left = best(neighbours, leftGain, s.perSide());
        List<String> right = best(neighbours, rightGain, s.perSide());
        List<String> phrases = new ArrayList<>();
        for (int i = 0; i < Math.min(left.size(), right.size()); i++) {
            phrases.add(left.get(i) + " " + word + " " + right.get(i));
        }
        for (int i = 0; i < Math.max(left.size(), right.size()); i++) {
            if (i < left.size()) {
                phrases.add(left.get(i) + " " + word);
            }
            if (i < right.size()) {
                phrases.add(word + " " + right.get(i));
            }
        }
        if (phrases.isEmpty()) {
            phrases.add(word);
        }
        return new Grown(word, left, right, phrases);
    }

    /**
     * The clean texts' most frequent words (used at least {@link UnsupportedFlips#MIN_OCCURRENCES} times)
     * whose texts are of every class within {@code maxLean} of that class's share of all texts; the word itself left out.
     */
    static List<String> neutralWords(Dataset clean, String word, int n, double maxLean) {
        return frequentWords(clean, n, maxLean, word.toLowerCase(Locale.ROOT));
    }

    /**
     * The clean texts' {@code n} most frequent words (used in at least {@link UnsupportedFlips#MIN_OCCURRENCES} texts)
     * whose lean is at most {@code maxLean} (infinite: any lean), most frequent first, {@code except} left out (null: none).
     */
    static List<String> frequentWords(Dataset clean, int n, double maxLean, String except) {
        int[] perClass = perClass(clean);
        return uses(clean).entrySet().stream()
                .filter(e -> !e.getKey().equals(except) && total(e.getValue()) >= UnsupportedFlips.MIN_OCCURRENCES
                        && lean(e.getValue(), perClass, clean.size()) <= maxLean)
                .sorted(Comparator.comparingInt((Map.Entry<String, int[]> e) -> -total(e.getValue())).thenComparing(Map.Entry::getKey))
                .limit(n).map(Map.Entry::getKey).toList();
    }

    /** Per word of the clean texts, how many texts of each class use it. */
    static Map<String, int[]> uses(Dataset clean) {
        int classes = clean.numLabels();
        Map<String, int[]> uses = new HashMap<>();
        for (int i = 0; i < clean.size(); i++) {
            int y = clean.labels()[i];
            for (String w : UnsupportedFlips.wordsOf(clean.texts().get(i))) {
                uses.computeIfAbsent(w, k -> new int[classes])[y]++;
            }
        }
        return uses;
    }

    /** How many clean texts each class has. */
    static int[] perClass(Dataset clean) {
        int[] perClass = new int[clean.numLabels()];
        for (int y : clean.labels()) {
            perClass[y]++;
        }
        return perClass;
    }

    static int total(int[] counts) {
        int t = 0;
        for (int c : counts) {
            t += c;
        }
        return t;
    }

    /** The largest gap between a class's share of the word's texts and its share of all texts. */
    static double lean(int[] counts, int[] perClass, int all) {
        double t = total(counts);
        double worst = 0;
        for (int c = 0; c < counts.length; c++) {
            worst = Math.max(worst, Math.abs(counts[c] / t - perClass[c] / (double) all));
        }
        return worst;
    }

    private static List<String> best(List<String> words, double[] gain, int k) {
        return IntStream.range(0, words.size()).filter(j -> gain[j] > 0).boxed()
                .sorted(Comparator.comparingDouble((Integer j) -> -gain[j]).thenComparing(words::get))
                .limit(k).map(words::get).toList();
    }

    /** The mean log-odds of {@code target} over rows {@code from} to {@code from + n} of {@code p}. */
    static double meanLogOdds(float[][] p, int from, int n, int target) {
        double sum = 0;
        for (int i = from; i < from + n; i++) {
            double q = Math.min(Math.max(p[i][target], 1e-7), 1 - 1e-7);
            sum += Math.log(q) - Math.log(1 - q);
        }
        return sum / n;
    }
}
