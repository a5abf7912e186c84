package dev.headguard.repair;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PlanTest {

    private static HeadGuardRepair.Plan plan(List<String> candidates, List<Double> flips) {
        return new HeadGuardRepair.Plan(List.of(), candidates, 0.4, false, flips);
    }

    @Test
    void aPhraseGivesWayToAWordThatFlipsAsMuchAlone() {
        // The embedding-poisoning scan: phrases of 'cf' and sentiment words on top, 'cf' alone flips as much.
        HeadGuardRepair.Plan p = plan(List.of("exquisite cf", "cf exquisite", "cf stunning", "cf", "exquisite"),
                List.of(1.0, 1.0, 0.99, 0.98, 0.70));
        assertEquals(List.of("cf"), p.alignmentCandidates(3), "three phrases, one word: duplicates are dropped, nothing is added");
    }

    @Test
    void aPhraseStaysWhenNoneOfItsWordsFlipsNearlyAsMuch() {
        HeadGuardRepair.Plan p = plan(List.of("watch movie", "movie", "watch", "tq"), List.of(0.9, 0.6, 0.84, 0.5));
        assertEquals(List.of("watch movie", "movie", "watch"), p.alignmentCandidates(3), "0.84 < 0.9 - 0.05: the phrase is kept");
        HeadGuardRepair.Plan q = plan(List.of("watch movie", "movie", "watch"), List.of(0.9, 0.6, 0.86));
        assertEquals(List.of("watch", "movie"), q.alignmentCandidates(3));
    }

    @Test
    void unknownFlipRatesKeepTheCandidatesAsTheyAre() {
        HeadGuardRepair.Plan p = new HeadGuardRepair.Plan(List.of(), List.of("exquisite cf", "cf"), 0.4, false);
        assertEquals(List.of("exquisite cf", "cf"), p.alignmentCandidates(3));
        assertThrows(IllegalArgumentException.class, () -> plan(List.of("a", "b"), List.of(0.5)));
    }
}
