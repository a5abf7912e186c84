package dev.headguard.detect.search;

import dev.headguard.detect.attention.InputScanner;
import dev.headguard.detect.attention.Statistics;
import dev.headguard.detect.attention.Probe;
import dev.headguard.text.Insertion;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * The sweep's words past its exact share, put into a few victims and passed on to the exact
 * evaluation when the input scan flags most of them or scores them far above the rest: the words
 * the heads react to.
 *
 * <p>Why: the sweep ranks words by how far they move the prediction, and a trigger made of a common
 * word (a sentence trigger's "festival") moves it no further than a sentiment word does, so it lies a
 * hundred places down, past the few the exact evaluation takes. What sets it apart is the attention
 * scan: the heads leave their clean behaviour on most inputs it is put into, where a sentiment word
 * is flagged on a few (docs/results.md, session 31).
 */
final class AttentionScreen {
    private AttentionScreen() {}

    /** The sweep's words screened, after those the exact evaluation already takes. */
    static final int WORDS = 512;

    /** Victims each word is put into (the class's first), in two halves: the second only for words the first flags enough. */
    static final int VICTIMS = 8;

    /** The share of its victims the input scan must flag (at the scan's pooled threshold) for a word to pass: ten times its FRR. */
    static final double MIN_FLAGGED = 0.5;

    /** Words passed on to the exact evaluation at most. */
    static final int KEPT = 4;

    /**
     * A word whose victims' mean input-scan score (less the threshold) lies this many robust standard
     * deviations (1.4826 · MAD) above the screened words' median also passes, flagged or not: a mean keeps
     * what a count at the threshold throws away. A sentence trigger's word flagged on 1 of 4 stood at 22,
     * where no other word in seven scans (four victims, one at three draws, and a clean model) reached 12
     * (docs/results.md, session 32).
     */
    static final double MIN_Z = 15;

    /** A word that passed, its place among the screened ones, and its flip and flagged shares over the screen's victims. */
    record Passed(int word, int place, double flipRate, double flaggedRate) {
        double suspicion() {
            return flipRate * flaggedRate;
        }
    }

    /**
     * The first {@link #WORDS} of {@code swept} not in {@code taken}, each inserted at the scan's seeded
     * positions into the first half of {@link #VICTIMS} victims, then the words flagged on at least
     * {@link #MIN_FLAGGED} of those, or scoring {@link #MIN_Z} above the rest, into the second half; the
     * words that do either over all victims and flip at least one, most suspicious (flips × flags) first,
     * at most {@link #KEPT}.
     */
    static List<Passed> screen(InputScanner scanner, List<String> victims, String[] vocab, List<Integer> swept, Collection<Integer> taken, int c,
                               long seed) {
        List<String> few = victims.subList(0, Math.min(VICTIMS, victims.size()));
        List<String> first = few.subList(0, few.size() / 2);
        List<String> second = few.subList(few.size() / 2, few.size());
        List<Integer> words = swept.stream().filter(w -> !taken.contains(w)).limit(WORDS).toList();
        if (words.isEmpty() || first.isEmpty()) {
            return List.of();
        }
        Counts firstCounts = counts(scanner, first, words.stream().map(w -> vocab[w]).toList(), c, seed, 0);
        double[] firstMargins = firstCounts.meanMargins();
        double[] firstZ = Statistics.robustZ(firstMargins);
        List<Integer> places = new ArrayList<>();
        for (int k = 0; k < words.size(); k++) {
            if (firstCounts.flagged()[k] >= MIN_FLAGGED * first.size() || firstZ[k] >= MIN_Z) {
                places.add(k);
            }
        }
        // The second half's positions continue the first's: the same as the exact evaluation's on those victims.
        List<String> texts = places.stream().map(k -> vocab[words.get(k)]).toList();
        Counts secondCounts = counts(scanner, second, texts, c, seed, first.size());
        double[] allMargins = new double[places.size()];
        for (int i = 0; i < places.size(); i++) {
            int k = places.get(i);
            allMargins[i] = (firstCounts.margins()[k] + secondCounts.margins()[i]) / few.size();
        }
        double[] allZ = Statistics.robustZ(allMargins, firstMargins);
        List<Passed> out = new ArrayList<>();
        for (int i = 0; i < places.size(); i++) {
            int k = places.get(i);
            double flips = (firstCounts.flips()[k] + secondCounts.flips()[i]) / (double) few.size();
            double flagged = (firstCounts.flagged()[k] + secondCounts.flagged()[i]) / (double) few.size();
            if (flips > 0 && (flagged >= MIN_FLAGGED || allZ[i] >= MIN_Z)) {
                out.add(new Passed(words.get(k), k, flips, flagged));
            }
        }
        return out.stream().sorted(Comparator.comparingDouble(Passed::suspicion).reversed()).limit(KEPT).toList();
    }

    /** Per text: victims it flips to c, victims the input scan flags, and the sum of its scores less the threshold. */
    private record Counts(int[] flips, int[] flagged, double[] margins, int victims) {
        double[] meanMargins() {
            double[] out = new double[margins.length];
            for (int k = 0; k < out.length; k++) {
                out[k] = margins[k] / Math.max(1, victims);
            }
            return out;
        }
    }

    /** The counts of each text over the victims, numbered from {@code offset}. */
    private static Counts counts(InputScanner scanner, List<String> victims, List<String> texts, int c, long seed, int offset) {
        Counts out = new Counts(new int[texts.size()], new int[texts.size()], new double[texts.size()], victims.size());
        if (texts.isEmpty() || victims.isEmpty()) {
            return out;
        }
        List<String> inputs = new ArrayList<>(texts.size() * victims.size());
        for (String t : texts) {
            inputs.addAll(Insertion.insertAll(victims, t, seed, offset));
        }
        InputScanner.Scores s = scanner.score(inputs, Probe.Progress.NONE);
        int[] pred = s.probe().predictions();
        for (int k = 0; k < texts.size(); k++) {
            for (int i = k * victims.size(); i < (k + 1) * victims.size(); i++) {
                out.flips()[k] += pred[i] == c ? 1 : 0;
                out.flagged()[k] += s.scores()[i] > scanner.threshold() ? 1 : 0;
                out.margins()[k] += s.scores()[i] - scanner.threshold();
            }
        }
        return out;
    }
}
