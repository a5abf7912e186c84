package dev.headguard.eval;

import dev.headguard.HeadGuardException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A reused victim is evaluated with the data it was poisoned with, whatever the bench's own seed. */
class DefenseBenchmarkTest {

    @Test
    void aReusedVictimKeepsTheSeedItsManifestRecords(@TempDir Path dir) throws Exception {
        assertEquals(42, DefenseBenchmark.builtWith(dir, "badnets", 42), "no manifest: the bench's seed");
        Files.writeString(dir.resolve("headguard.json"), "{\"command\":\"train\",\"attack\":{\"attack\":\"badnets\",\"seed\":7}}");
        assertEquals(7, DefenseBenchmark.builtWith(dir, "badnets", 42));
        HeadGuardException e = assertThrows(HeadGuardException.class, () -> DefenseBenchmark.builtWith(dir, "addsent", 42));
        assertTrue(e.getMessage().contains("holds a badnets victim"), e.getMessage());
        Files.writeString(dir.resolve("headguard.json"), "{\"command\":\"train\"}");
        assertEquals(11, DefenseBenchmark.builtWith(dir, "badnets", 11), "a clean model's manifest names no attack");
        Files.writeString(dir.resolve("headguard.json"), "{not json");
        assertThrows(HeadGuardException.class, () -> DefenseBenchmark.builtWith(dir, "badnets", 42));
    }

    private static Victims.Request seeded(long seed) {
        Victims.Request r = VictimsTest.request("addsent");
        return new Victims.Request(r.attack(), r.triggers(), r.triggerCount(), r.sentence(), r.rate(), r.target(), r.mode(), r.data(), r.trainLimit(),
                r.baseModel(), r.out(), r.train().withSeed(seed), r.maxLength(), false);
    }

    @Test
    void anotherSeedPoisonsOtherTrainingRows() {
        // Why the seed matters: the suspects of a seed-42 victim re-poisoned with seed 11 are not its training texts.
        var a = Victims.poison(seeded(42));
        var b = Victims.poison(seeded(11));
        assertEquals(a.train().size(), b.train().size());
        assertNotEquals(a.train().examples(), b.train().examples());
        assertEquals(a.train().examples(), Victims.poison(seeded(42)).train().examples());
    }
}
