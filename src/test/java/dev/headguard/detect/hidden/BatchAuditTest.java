package dev.headguard.detect.hidden;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchAuditTest {
    /** A population scan of n inputs, all predicted the target, flagging the first {@code flagged} of them. */
    static HiddenStateScan.Result population(int n, int flagged) {
        List<Integer> idx = new ArrayList<>();
        double[] margins = new double[n];
        for (int i = 0; i < n; i++) {
            margins[i] = i < flagged ? 1 + i : -1 - i;
            if (i < flagged) {
                idx.add(i);
            }
        }
        return new HiddenStateScan.Result(4, 1, idx, flagged / (double) n, new double[7], n, margins);
    }

    /** Attention margins: the last {@code flagged} of n above 0. */
    static double[] attention(int n, int flagged) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = i >= n - flagged ? 1 : -1;
        }
        return a;
    }

    @Test
    void theDetectorThatFlagsMoreOfTheBatchRanksIt() {
        // A batch of 400 where the population scan flags 120 (6x the 5% rate) and the attention scan 30.
        BatchAudit pop = BatchAudit.choose(attention(400, 30), 0.05, population(400, 120));
        assertTrue(pop.population());
        assertEquals("population", pop.chosen());
        assertEquals(120, pop.flaggedCount());
        assertEquals(30, pop.attentionFlagged());
        assertArrayEquals(population(400, 120).margins(), pop.scores());
        // The other way round: the attention scan's margins rank the batch.
        BatchAudit att = BatchAudit.choose(attention(400, 200), 0.05, population(400, 120));
        assertFalse(att.population());
        assertEquals(200, att.flaggedCount());
        assertEquals(120, att.populationFlagged());
        assertEquals(1.0, att.scores()[399], 1e-12);
        assertEquals(-1.0, att.scores()[0], 1e-12);
    }

    @Test
    void aPopulationScanThatFindsNoPopulationIsNeverChosen() {
        // 30 of 400 is 1.5x the 5% rate: under the 2x bar, so sampling noise however few the attention scan flags.
        BatchAudit a = BatchAudit.choose(attention(400, 5), 0.05, population(400, 30));
        assertFalse(a.population());
        assertEquals(0, a.populationFlagged());
        assertEquals(5, a.flaggedCount());
        assertThrows(IllegalArgumentException.class, () -> BatchAudit.choose(attention(10, 1), 0.05, population(11, 5)));
    }
}
