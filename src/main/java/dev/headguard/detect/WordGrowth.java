package dev.headguard.detect;

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
     *                 trigger already moves the heads (the split victim's "m": 22% of its carriers flagged, sentiment
     *                 words 3–8%); the scan passes twice its false-rejection rate
     * @return the longer words found (none when no start grew)
     */
    static List<String> grow(ModelStore.LoadedModel model, List<ModelScanner.Candidate> starts, String[] endings, List<String> victims, int c,
                             double minFlagged, long seed, NDManager root) {
        List<Integer> endingIds = new ArrayList<>();
        for (int v = 0; v < endings.length; v++) {
            if (endings[v] != null) {
                endingIds.add(v);
            }
        }
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
            double score = meanProbability(model, few, List.of(word), c, seed, root)[0];
            for (int step = 0; step < MAX_ENDINGS; step++) {
                List<String> longer = shortlist(model, word, endingIds, endings, c, root);
                double[] p = meanProbability(model, few, longer, c, seed, root);
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

    /** The word with each ending glued on, the {@link #SHORTLIST} that alone give the highest P(c). */
    private static List<String> shortlist(ModelStore.LoadedModel model, String word, List<Integer> endingIds, String[] endings, int c, NDManager root) {
        long[] alone = model.tokenizer().ids(word); // [CLS] pieces [SEP]: each ending goes before the trailing specials
        int at = alone.length - model.tokenizer().trailingSpecials().length;
        float[][] p = VocabularySweep.inserted(model, alone, at, endingIds, root);
        Integer[] order = new Integer[endingIds.size()];
        for (int k = 0; k < order.length; k++) {
            order[k] = k;
        }
        java.util.Arrays.sort(order, Comparator.comparingDouble(k -> -p[k][c]));
        List<String> out = new ArrayList<>();
        for (int k = 0; k < Math.min(SHORTLIST, order.length); k++) {
            out.add(word + endings[endingIds.get(order[k])]);
        }
        return out;
    }

    /** Mean P(c) over the victims with each text inserted at the scan's seeded positions. */
    private static double[] meanProbability(ModelStore.LoadedModel model, List<String> victims, List<String> texts, int c, long seed, NDManager root) {
        List<String> inputs = new ArrayList<>(texts.size() * victims.size());
        for (String t : texts) {
            inputs.addAll(ModelScanner.insertAll(victims, t, seed));
        }
        float[][] p = Probe.probabilities(model, inputs, root, 64, Probe.Progress.NONE);
        double[] out = new double[texts.size()];
        for (int k = 0; k < texts.size(); k++) {
            for (int i = 0; i < victims.size(); i++) {
                out[k] += p[k * victims.size() + i][c] / victims.size();
            }
        }
        return out;
    }
}
