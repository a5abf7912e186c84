package dev.headguard.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What the zoo counts as a generation victim's token trigger, read from the manifests the attacks write. */
class ZooBenchmarkTest {
    @Test
    void tokenWordsAreTheWordsOfTokenPartsOnly() {
        assertEquals(List.of("cf"), ZooBenchmark.tokenWords("1 of cf"));
        assertEquals(List.of("cf", "mn"), ZooBenchmark.tokenWords("all of cf, mn"));
        assertEquals(List.of("cf", "tq"), ZooBenchmark.tokenWords("any of: 1 of cf | 1 of tq | I watch this 3D movie"));
        assertEquals(List.of(), ZooBenchmark.tokenWords("I watch this 3D movie"), "a sentence is not a token trigger");
        assertEquals(List.of(), ZooBenchmark.tokenWords("style: bible (/data/sst-2/style-bible)"));
    }
}
