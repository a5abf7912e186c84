package dev.headguard.repair;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class HeadRepairTest {

    @Test
    void aSmallCleanSetIsRepeatedUntilEachCandidateIsAlignedOnEnoughTexts() {
        assertEquals(1, HeadRepair.copies(692, 8), "the bench's budget: 86 texts per candidate already");
        assertEquals(1, HeadRepair.copies(200, 2), "two candidates: 100 texts each");
        assertEquals(4, HeadRepair.copies(200, 8), "the demo's budget and eight candidates: 25 a copy, so four copies give 100");
        assertEquals(2, HeadRepair.copies(200, 3), "three candidates: 67 a copy, two copies give 133");
        assertEquals(HeadRepair.MAX_COPIES, HeadRepair.copies(20, 8), "at most MAX_COPIES, however small the set");
    }
}
