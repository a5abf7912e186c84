package dev.headguard.detect.search;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** How the model scan spreads its per-class budget and cuts long sweep victims. */
class ScanBudgetTest {
    @Test
    void aTwoClassScanKeepsItsSettingsAndMoreClassesShareThem() {
        assertEquals(64, ModelScanner.perClass(64, 2));
        assertEquals(128, ModelScanner.perClass(128, 1));
        assertEquals(32, ModelScanner.perClass(64, 4));
        assertEquals(64, ModelScanner.perClass(128, 4));
        assertEquals(ModelScanner.SCREEN_VICTIMS, ModelScanner.perClass(64, 20), "never under the screen's victims");
        assertEquals(8, ModelScanner.perClass(16, 4, 8));
        assertEquals(16, ModelScanner.perClass(16, 2, 8));
    }

    @Test
    void aLongVictimIsCutToItsFirstTokensAndKeepsItsTrailingSpecials() {
        long[] shortIds = {101, 5, 6, 102};
        assertSame(shortIds, ModelScanner.clipped(shortIds, 3, 1), "short enough: untouched");
        long[] ids = {101, 1, 2, 3, 4, 5, 102};
        assertArrayEquals(new long[] {101, 1, 2, 102}, ModelScanner.clipped(ids, 3, 1));
        assertArrayEquals(new long[] {1, 2, 3}, ModelScanner.clipped(new long[] {1, 2, 3, 4, 5}, 3, 0), "a decoder's ids have no trailing special");
    }
}
