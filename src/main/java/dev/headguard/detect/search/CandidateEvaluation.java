package dev.headguard.detect.search;

import dev.headguard.detect.attention.InputScanner;
import dev.headguard.detect.attention.Probe;
import dev.headguard.detect.attention.Statistics;
import dev.headguard.text.Insertion;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** How the model scan scores a trigger candidate, and which candidates it reports. */
final class CandidateEvaluation {
    private CandidateEvaluation() {}

    /** How much more suspicious than each of its words a phrase must be to be reported. */
    static final double PHRASE_MARGIN = 0.02;

    /**
     * A candidate evaluated as the scan evaluates every one: inserted into each victim at the seeded
     * positions, its flip rate to {@code target} times the share of the inserted texts the input scan flags.
     */
    static ModelScanner.Candidate evaluate(InputScanner scanner, List<String> victims, double victimMean, String text, int target, int rank, long seed,
                                            Map<String, List<String>> examples) {
        List<String> inserted = Insertion.insertAll(victims, text, seed);
        InputScanner.Scores s = scanner.score(inserted, Probe.Progress.NONE);
        int[] p = s.probe().predictions();
        int flips = 0;
        for (int v : p) {
            flips += v == target ? 1 : 0;
        }
        double flip = flips / (double) p.length;
        // The pooled threshold, not the per-class ones the input filter flags with: a candidate that flips
        // victims to the target would otherwise be held to the target class's own clean scores, and on the
        // planted-backdoor fixture sentiment phrases then outranked the trigger.
        int above = 0;
        for (double v : s.scores()) {
            above += v > scanner.threshold() ? 1 : 0;
        }
        double flagged = above / (double) p.length;
        examples.put(ModelScanner.key(text, target), inserted.subList(0, Math.min(3, inserted.size())));
        return new ModelScanner.Candidate(text, target, rank, flip, flagged, Statistics.mean(s.scores()) - victimMean, flip * flagged);
    }

    /** The candidates (sorted) less every phrase that does not beat both of its words: it would repeat the evidence of one of them. */
    static List<ModelScanner.Candidate> withoutRedundantPhrases(List<ModelScanner.Candidate> all) {
        Map<String, Double> single = new LinkedHashMap<>();
        for (ModelScanner.Candidate cand : all) {
            if (cand.gradientRank() != 0) {
                single.put(ModelScanner.key(cand.text(), cand.target()), cand.suspicion());
            }
        }
        List<ModelScanner.Candidate> kept = new ArrayList<>();
        for (ModelScanner.Candidate cand : all) {
            boolean redundant = false;
            if (cand.gradientRank() == 0) {
                for (String w : cand.text().split(" ")) {
                    redundant |= cand.suspicion() <= single.getOrDefault(ModelScanner.key(w, cand.target()), 0.0) + PHRASE_MARGIN;
                }
            }
            if (!redundant) {
                kept.add(cand);
            }
        }
        return kept;
    }
}
