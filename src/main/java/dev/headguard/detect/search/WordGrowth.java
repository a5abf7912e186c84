package dev.headguard.detect.search;

import ai.djl.ndarray.NDManager;
import dev.headguard.model.io.ModelStore;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Composes a trigger word the tokenizer splits from the piece the search found. A rare word such as
 * "mzaf" is {@code m ##za ##f} to WordPiece: no single token carries it, the vocabulary search can
 * only insert whole words, and what it finds is the first piece, which flips some inputs but not
 * most. So a candidate that flips part of the victims is extended one word ending at a time: every
 * ending is glued to it and the words put alone through the model ([CLS] m·za [SEP], one cheap
 * pass), the endings that push most toward the class are inserted into a few victims, and the best
 * is kept when it moves them clearly further than the word before. The repair then aligns against
 * the whole word, which is what the attacker's inputs carry.
 */
final class WordGrowth {
    private WordGrowth() {}

    /** Candidates grown, the most suspicious of every class first. */
    static final int STARTS = 2;

    /** A candidate that already flips this share of the victims is a whole trigger: nothing to grow. */
    static final double WHOLE = 0.9;

    /** A start is grown when the input scan flags its carriers at least this many times its false-rejection rate. */
    static final double FLAGGED_OVER_FRR = 2;

    /** Endings added at most. */
    static final int MAX_ENDINGS = 3;

    /** Endings per step screened in the victims, the best alone first. */
    static final int SHORTLIST = 32;

    /** Mean P(class) on the screen victims a longer word must add over the shorter one. */
    static final double MARGIN = 0.1;

    /**
     * @param starts   single-word candidates toward {@code c}, most suspicious first, with their flip rates
     * @param endings  {@link dev.headguard.text.TextTokenizer#wordEndings()}
     * @param victims  clean inputs the model does not call {@code c}; the first {@link ModelScanner#SCREEN_VICTIMS} screen
     * @param minFlagged a start whose carriers the input scan flags less often than this is not grown: a piece of a
     *                 trigger already moves the heads, an ordinary word does not; the scan passes twice its
     *                 false-rejection rate
     * @return the longer words found (none when no start grew)
     */
    static List<String> grow(ModelStore.LoadedModel model, List<ModelScanner.Candidate> starts, String[] endings, List<String> victims, int c,
                             double minFlagged, long seed, NDManager root) {
        List<Integer> endingIds = ids(endings);
        List<String> few = victims.subList(0, Math.min(ModelScanner.SCREEN_VICTIMS, victims.size()));
        List<String> out = new ArrayList<>();
        int tried = 0;
        for (ModelScanner.Candidate start : starts) {
            if (tried == STARTS) {
                break;
            }
            if (start.text().contains(" ")) {
                continue;
            }
            tried++;
            if (start.flipRate() >= WHOLE || start.flaggedRate() < minFlagged || endingIds.isEmpty()) {
                continue;
            }
            String word = start.text();
            double score = Screening.meanProbability(model, few, List.of(word), c, seed, root)[0];
            for (int step = 0; step < MAX_ENDINGS; step++) {
                List<String> longer = shortlist(model, word, endingIds, endings, c, root);
                double[] p = Screening.meanProbability(model, few, longer, c, seed, root);
                int best = 0;
                for (int k = 1; k < p.length; k++) {
                    best = p[k] > p[best] ? k : best;
                }
                if (!(p[best] >= score + MARGIN)) {
                    break;
                }
                word = longer.get(best);
                score = p[best];
            }
            if (!word.equals(start.text())) {
                out.add(word);
            }
        }
        return out;
    }

    /** Endings per class, the best alone, that are swept in the shortest victims ({@link #endingWords}). */
    static final int ENDING_SHORTLIST = 512;

    /** The shortest victims the endings are swept in; their mean P(class) ranks the endings. */
    static final int ENDING_VICTIMS = 3;

    /** Words per class made from the best endings and evaluated like the others. */
    static final int ENDING_WORDS = 2;

    /**
     * Words made from the endings that push the shortest victims most toward each class. A model that
     * learned a split word may fire on an ending after any start ({@code ##za} of "mzaf" after x, b or l;
     * {@code ##q} of "zqk") while the first piece is weak (the "zqk" victim's "z" flips 31% and ranked
     * no better than 20th in any shortest victim). Every ending is put alone through the model once,
     * [CLS] ##e [SEP]; alone, sentiment suffixes lead ({@code ##powering}, {@code ##lifting}), so each
     * class's best {@link #ENDING_SHORTLIST} go, after the start "x", in front of its
     * {@link #ENDING_VICTIMS} shortest victims, and the best {@link #ENDING_WORDS} by mean P(class) get
     * the one-letter start that pushes the shortest victim most.
     *
     * @param alone   {@link #alone}
     * @param victims token ids of the clean inputs the model does not call {@code c}
     * @param letters the vocabulary's one-letter words (Latin), the starts tried
     */
    static List<String> endingWords(ModelStore.LoadedModel model, String[] endings, float[][] alone, List<Integer> letters, String[] vocab,
                                    int c, List<long[]> victims, NDManager root) {
        List<Integer> endingIds = ids(endings);
        long[] x = model.tokenizer().ids("x");
        int lead = model.tokenizer().leadingSpecials();
        if (endingIds.isEmpty() || letters.isEmpty() || x.length != lead + 1 + model.tokenizer().trailingSpecials().length) {
            return List.of();
        }
        long start = x[lead];
        List<Integer> shortlist = best(endingIds, k -> alone[k][c], ENDING_SHORTLIST);
        List<long[]> shortest = new ArrayList<>(victims);
        shortest.sort(Comparator.comparingInt(v -> v.length));
        shortest = shortest.subList(0, Math.min(ENDING_VICTIMS, shortest.size()));
        double[] mean = new double[shortlist.size()];
        for (long[] victim : shortest) {
            float[][] p = VocabularySweep.inserted(model, VocabularySweep.withToken(victim, lead, start), lead + 1, shortlist, root); // [CLS] x ##e …
            for (int k = 0; k < mean.length; k++) {
                mean[k] += p[k][c] / shortest.size();
            }
        }
        List<String> words = new ArrayList<>();
        for (int ending : best(shortlist, k -> mean[k], ENDING_WORDS)) {
            float[][] p = VocabularySweep.inserted(model, VocabularySweep.withToken(shortest.get(0), lead, ending), lead, letters, root); // [CLS] letter ##e …
            int bestLetter = -1;
            for (int l = 0; l < p.length; l++) {
                // Only a word the tokenizer splits back into this letter and this ending ("af" is a word of its own, not a ##f).
                if ((bestLetter < 0 || p[l][c] > p[bestLetter][c]) && splitsInto(model, vocab[letters.get(l)] + endings[ending], letters.get(l), ending)) {
                    bestLetter = l;
                }
            }
            if (bestLetter >= 0) {
                words.add(vocab[letters.get(bestLetter)] + endings[ending]);
            }
        }
        return words;
    }

    /** P(class) of every ending alone, [CLS] ##e [SEP] (rows in vocabulary order of the endings; one pass for all classes). */
    static float[][] alone(ModelStore.LoadedModel model, String[] endings, NDManager root) {
        return VocabularySweep.inserted(model, model.tokenizer().ids(""), model.tokenizer().leadingSpecials(), ids(endings), root);
    }

    /** Whether {@code word} is exactly the tokens {@code start}, {@code ending}. */
    private static boolean splitsInto(ModelStore.LoadedModel model, String word, long start, long ending) {
        long[] ids = model.tokenizer().ids(word);
        int lead = model.tokenizer().leadingSpecials();
        return ids.length == lead + 2 + model.tokenizer().trailingSpecials().length && ids[lead] == start && ids[lead + 1] == ending;
    }

    /** The vocabulary's one-letter words a to z: the starts a composed word may take. */
    static List<Integer> letters(String[] vocab) {
        List<Integer> out = new ArrayList<>();
        for (int v = 0; v < vocab.length; v++) {
            if (vocab[v] != null && vocab[v].length() == 1 && vocab[v].charAt(0) >= 'a' && vocab[v].charAt(0) <= 'z') {
                out.add(v);
            }
        }
        return out;
    }

    /** The {@code n} items with the highest score (score by index into {@code items}). */
    private static List<Integer> best(List<Integer> items, java.util.function.IntToDoubleFunction score, int n) {
        Integer[] order = new Integer[items.size()];
        for (int k = 0; k < order.length; k++) {
            order[k] = k;
        }
        java.util.Arrays.sort(order, Comparator.comparingDouble(k -> -score.applyAsDouble(k)));
        List<Integer> out = new ArrayList<>();
        for (int k = 0; k < Math.min(n, order.length); k++) {
            out.add(items.get(order[k]));
        }
        return out;
    }

    private static List<Integer> ids(String[] endings) {
        List<Integer> out = new ArrayList<>();
        for (int v = 0; v < endings.length; v++) {
            if (endings[v] != null) {
                out.add(v);
            }
        }
        return out;
    }

    /** The word with each ending glued on, the {@link #SHORTLIST} that alone give the highest P(c). */
    private static List<String> shortlist(ModelStore.LoadedModel model, String word, List<Integer> endingIds, String[] endings, int c, NDManager root) {
        long[] alone = model.tokenizer().ids(word); // [CLS] pieces [SEP]: each ending goes before the trailing specials
        float[][] p = VocabularySweep.inserted(model, alone, alone.length - model.tokenizer().trailingSpecials().length, endingIds, root);
        return best(endingIds, k -> p[k][c], SHORTLIST).stream().map(e -> word + endings[e]).toList();
    }
}
