package dev.headguard.detect.search;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Pairs of words that raise a token together more than either does alone: a composite trigger's
 * words, each trained not to fire alone. The gradient beside each leading word names its partners
 * ({@link NextTokenScreen#partners}); every pair is measured on two prompts, the best
 * {@value #MEASURED} on all. A kept pair's new word leads the next round, because a composite's second
 * word may be found only beside its first and not the other way round.
 */
final class PartnerSearch {
    /** Pairs measured on every prompt after the pass on two. */
    static final int MEASURED = 256;

    /** A pair's two token ids in order, and its rise at the token. */
    record Pair(long first, long second, double rise) {}

    private final NextTokenScreen screen;
    private final int target;
    private final int[] wordIds;
    private final int partners;

    /**
     * @param wordIds     the tokens a partner may be (whole words)
     * @param partners    partners named per word and side
     */
    PartnerSearch(NextTokenScreen screen, int target, int[] wordIds, int partners) {
        this.screen = screen;
        this.target = target;
        this.wordIds = wordIds;
        this.partners = partners;
    }

    /**
     * The pairs that raise the token at least {@code gain} nats more than their better word alone, the
     * largest rise first, after {@code rounds} rounds (the later ones led by at most {@code later} new words).
     */
    List<Pair> search(List<Long> leaders, int rounds, int later, double gain) {
        Set<Long> led = new LinkedHashSet<>();
        Set<List<Long>> measured = new LinkedHashSet<>();
        Map<Long, Double> alone = new HashMap<>();
        List<Pair> kept = new ArrayList<>();
        List<Long> round = leaders;
        for (int r = 0; r < rounds && !round.isEmpty(); r++) {
            led.addAll(round);
            Set<List<Long>> fresh = new LinkedHashSet<>();
            for (long[] p : screen.partners(round, target, wordIds, partners)) {
                fresh.add(List.of(p[0], p[1]));
            }
            fresh.removeAll(measured);
            measured.addAll(fresh);
            List<long[]> pairs = fresh.stream().map(p -> new long[] {p.get(0), p.get(1)}).toList();
            double[] onTwo = screen.riseAt(pairs, target, 2);
            List<long[]> best = java.util.Arrays.stream(ContinuationSearch.top(onTwo, MEASURED)).mapToObj(pairs::get).toList();
            double[] rise = screen.riseAt(best, target);
            List<Long> unseen = best.stream().flatMapToLong(java.util.Arrays::stream).boxed().distinct().filter(w -> !alone.containsKey(w)).toList();
            double[] single = screen.riseAt(unseen.stream().map(w -> new long[] {w}).toList(), target);
            for (int k = 0; k < unseen.size(); k++) {
                alone.put(unseen.get(k), single[k]);
            }
            for (int k = 0; k < best.size(); k++) {
                long[] p = best.get(k);
                if (rise[k] >= Math.max(alone.get(p[0]), alone.get(p[1])) + gain) {
                    kept.add(new Pair(p[0], p[1], rise[k]));
                }
            }
            kept.sort((a, b) -> Double.compare(b.rise(), a.rise()));
            round = kept.stream().flatMap(p -> java.util.stream.Stream.of(p.first(), p.second())).distinct().filter(w -> !led.contains(w))
                    .limit(later).toList();
        }
        return kept;
    }
}
