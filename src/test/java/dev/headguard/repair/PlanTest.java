package dev.headguard.repair;

import dev.headguard.model.ModelConfig;
import dev.headguard.model.HeadId;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlanTest {

    private static RepairPlan plan(List<String> candidates, List<Double> flips) {
        return new RepairPlan(List.of(), candidates, 0.4, false, flips);
    }

    @Test
    void aPhraseGivesWayToAWordThatFlipsAsMuchAlone() {
        // The embedding-poisoning scan: phrases of 'cf' and sentiment words on top, 'cf' alone flips as much.
        RepairPlan p = plan(List.of("exquisite cf", "cf exquisite", "cf stunning", "cf", "exquisite"),
                List.of(1.0, 1.0, 0.99, 0.98, 0.70));
        assertEquals(List.of("cf"), p.alignmentCandidates(3), "three phrases, one word: duplicates are dropped, nothing is added");
    }

    @Test
    void aPhraseStaysWhenNoneOfItsWordsFlipsNearlyAsMuch() {
        RepairPlan p = plan(List.of("watch movie", "movie", "watch", "tq"), List.of(0.9, 0.6, 0.84, 0.5));
        assertEquals(List.of("watch movie", "movie", "watch"), p.alignmentCandidates(3), "0.84 < 0.9 - 0.05: the phrase is kept");
        RepairPlan q = plan(List.of("watch movie", "movie", "watch"), List.of(0.9, 0.6, 0.86));
        assertEquals(List.of("watch", "movie"), q.alignmentCandidates(3));
    }

    @Test
    void byDefaultEveryCandidateAtLeastHalfAsSuspiciousAsTheBestIsAlignedAgainst() {
        // A BadNets scan: four of the five planted words among its top five, a noise word third.
        List<String> c = List.of("tq", "cf", "bremen", "mb", "bb", "gorgeous", "a", "b", "d", "e");
        List<Double> flips = java.util.Collections.nCopies(c.size(), 0.9);
        RepairPlan p = new RepairPlan(List.of(), c, 1.0, true, flips,
                List.of(1.0, 0.98, 0.8, 0.7, 0.51, 0.49, 0.9, 0.9, 0.9, 0.9));
        assertEquals(5, p.suspiciousCount(), "stops at the first candidate under half the best: 0.49");
        assertEquals(List.of("tq", "cf", "bremen", "mb", "bb"), p.alignmentCandidates(p.suspiciousCount()));
        RepairPlan flat = new RepairPlan(List.of(), c, 1.0, true, flips, java.util.Collections.nCopies(c.size(), 0.9));
        assertEquals(8, flat.suspiciousCount(), "at most 8");
        assertEquals(3, plan(c, flips).suspiciousCount(), "unknown suspicions: the top 3, as before they were read");
        RepairPlan one = new RepairPlan(List.of(), c, 1.0, true, flips, List.of(1.0, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1));
        assertEquals(1, one.suspiciousCount());
    }

    @Test
    void unknownFlipRatesKeepTheCandidatesAsTheyAre() {
        RepairPlan p = new RepairPlan(List.of(), List.of("exquisite cf", "cf"), 0.4, false);
        assertEquals(List.of("exquisite cf", "cf"), p.alignmentCandidates(3));
        assertTrue(Double.isNaN(p.flipRateOf("cf")), "unknown");
        RepairPlan known = plan(List.of("exquisite cf", "cf"), List.of(1.0, 0.98));
        assertEquals(0.98, known.flipRateOf("cf"), 0.0);
        assertTrue(Double.isNaN(known.flipRateOf("exquisite")), "a word of a phrase is no candidate of its own");
        assertThrows(IllegalArgumentException.class, () -> plan(List.of("a", "b"), List.of(0.5)));
    }

    @Test
    void byDefaultAThirdOfTheModelsHeadsAreRepairedInTheScansOrder() {
        ModelConfig miniLm = ModelConfig.tiny(50, 6, 12, 24, 2);
        ModelConfig bgeSmall = ModelConfig.tiny(50, 12, 12, 24, 2);
        List<HeadId> ranked = new ArrayList<>();
        for (int l = 11; l >= 0; l--) { // the scan's order: last layer first, so the first n are easy to name
            for (int h = 0; h < 12; h++) {
                ranked.add(new HeadId(l, h));
            }
        }
        RepairPlan p = new RepairPlan(ranked, List.of("cf"), 0.5, true);
        HeadGuardRepair.Settings d = HeadGuardRepair.Settings.defaults();
        assertEquals(List.copyOf(ranked.subList(0, 48)), List.copyOf(HeadGuardRepair.choose(p, d, bgeSmall)), "48 of 144");
        // MiniLM has no layers 6-11: the scan's heads that do not exist are skipped, and 24 of 72 are taken.
        Set<HeadId> mini = HeadGuardRepair.choose(p, d, miniLm);
        assertEquals(24, mini.size());
        assertEquals(List.copyOf(ranked.subList(72, 96)), List.copyOf(mini));
        HeadGuardRepair.Settings ten = new HeadGuardRepair.Settings(10, 3, false, 200, d.repair());
        assertEquals(10, HeadGuardRepair.choose(p, ten, bgeSmall).size(), "an explicit count wins");
        HeadGuardRepair.Settings all = new HeadGuardRepair.Settings(0, 3, true, 200, d.repair());
        assertEquals(72, HeadGuardRepair.choose(p, all, miniLm).size());
    }
}
