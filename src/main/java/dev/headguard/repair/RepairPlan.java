package dev.headguard.repair;

import dev.headguard.detect.search.ModelScanner;
import dev.headguard.model.HeadId;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What a scan says to repair: heads most suspicious first, candidates most suspicious first.
 *
 * @param flipRates   each candidate's flip rate (same order; NaN where unknown)
 * @param suspicions  each candidate's suspicion, the scan's ranking score (same order; NaN where unknown)
 * @param target      the class the strongest evidence flips inputs to (−1: unknown)
 * @param opening     the scan's strongest evidence when it is a common word that, opening a clean text, flips it
 *                    although the clean texts using it do not lean that way: an implicit trigger's lexical anchor
 *                    (null when a trigger candidate is stronger, or the scan found neither)
 */
public record RepairPlan(List<HeadId> heads, List<String> candidates, double scanScore, boolean backdoor, List<Double> flipRates,
                         List<Double> suspicions, int target, Opening opening) {
    /** A sentence-opening word and the class it flips inputs to ({@link dev.headguard.detect.search.UnsupportedFlips}). */
    public record Opening(String word, int target) {}

    public RepairPlan {
        heads = List.copyOf(heads);
        candidates = List.copyOf(candidates);
        flipRates = List.copyOf(flipRates);
        suspicions = List.copyOf(suspicions);
        if (flipRates.size() != candidates.size() || suspicions.size() != candidates.size()) {
            throw new IllegalArgumentException(candidates.size() + " candidates, " + flipRates.size() + " flip rates, " + suspicions.size() + " suspicions");
        }
    }

    /** A plan without an opening word. */
    public RepairPlan(List<HeadId> heads, List<String> candidates, double scanScore, boolean backdoor, List<Double> flipRates, List<Double> suspicions,
                      int target) {
        this(heads, candidates, scanScore, backdoor, flipRates, suspicions, target, null);
    }

    /** A plan whose target is unknown. */
    public RepairPlan(List<HeadId> heads, List<String> candidates, double scanScore, boolean backdoor, List<Double> flipRates, List<Double> suspicions) {
        this(heads, candidates, scanScore, backdoor, flipRates, suspicions, -1);
    }

    /** A plan whose candidates' suspicions and target are unknown. */
    public RepairPlan(List<HeadId> heads, List<String> candidates, double scanScore, boolean backdoor, List<Double> flipRates) {
        this(heads, candidates, scanScore, backdoor, flipRates, java.util.Collections.nCopies(candidates.size(), Double.NaN));
    }

    /** A plan whose candidates' flip rates and suspicions are unknown. */
    public RepairPlan(List<HeadId> heads, List<String> candidates, double scanScore, boolean backdoor) {
        this(heads, candidates, scanScore, backdoor, java.util.Collections.nCopies(candidates.size(), Double.NaN));
    }

    public static RepairPlan of(ModelScanner.Result r) {
        Opening opening = r.unsupportedWins() ? new Opening(r.unsupported().get(0).text(), r.unsupported().get(0).target()) : null;
        return new RepairPlan(r.heads().stream().map(h -> new HeadId(h.layer(), h.head())).toList(),
                r.candidates().stream().map(ModelScanner.Candidate::text).toList(), r.score(), r.backdoor(),
                r.candidates().stream().map(ModelScanner.Candidate::flipRate).toList(),
                r.candidates().stream().map(ModelScanner.Candidate::suspicion).toList(),
                opening != null ? opening.target() : r.candidates().isEmpty() ? -1 : r.candidates().get(0).target(), opening);
    }

    /**
     * How many of the top candidates to align against when the user names no count: every one
     * whose suspicion is at least {@link #SUSPICION_SHARE} of the best one's, at most
     * {@link #MAX_TRIGGERS}; 3 when the suspicions are unknown (a report from before they were
     * read). Why not a fixed 3: a BadNets attack plants several words, and a fixed top 3 missed
     * some of them (docs/results.md).
     */
    public int suspiciousCount() {
        if (candidates.isEmpty() || !(suspicions.get(0) > 0)) {
            return Math.min(3, candidates.size());
        }
        int n = 0;
        while (n < Math.min(MAX_TRIGGERS, candidates.size()) && suspicions.get(n) >= SUSPICION_SHARE * suspicions.get(0)) {
            n++;
        }
        return Math.max(1, n);
    }

    /** The flip rate of the candidate {@code text} (NaN when it is no candidate or its rate is unknown). */
    public double flipRateOf(String text) {
        int i = candidates.indexOf(text);
        return i < 0 ? Double.NaN : flipRates.get(i);
    }

    /** The same plan with other heads. */
    RepairPlan withHeads(List<HeadId> ranked) {
        return new RepairPlan(ranked, candidates, scanScore, backdoor, flipRates, suspicions, target, opening);
    }

    /**
     * What to align against: the first {@code n} candidates, each phrase replaced by one of its
     * words that is itself a candidate flipping at least as many inputs, less {@link #PHRASE_TOLERANCE}
     * (duplicates dropped, so fewer may come back). Why: when one word alone already flips the inputs,
     * the phrase's other word is one a clean model reads too, and aligning against it teaches the heads
     * to ignore that word (the embedding-poisoning victim's {@code exquisite cf}: docs/how-it-works.md).
     */
    public List<String> alignmentCandidates(int n) {
        Set<String> out = new LinkedHashSet<>();
        for (int i = 0; i < Math.min(n, candidates.size()); i++) {
            String c = candidates.get(i);
            String chosen = c;
            double best = Double.NEGATIVE_INFINITY;
            for (String w : c.split(" ")) {
                int j = candidates.indexOf(w);
                if (!w.equals(c) && j >= 0 && flipRates.get(j) >= flipRates.get(i) - PHRASE_TOLERANCE && flipRates.get(j) > best) {
                    chosen = w;
                    best = flipRates.get(j);
                }
            }
            out.add(chosen);
        }
        return new ArrayList<>(out);
    }

    /** See {@link #alignmentCandidates}. */
    static final double PHRASE_TOLERANCE = 0.05;

    /** See {@link #suspiciousCount}. */
    static final double SUSPICION_SHARE = 0.5;

    /** See {@link #suspiciousCount}. */
    static final int MAX_TRIGGERS = 8;
}
