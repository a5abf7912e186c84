package dev.headguard.bench;

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
    void aReusedVictimIsRebuiltFromItsManifest(@TempDir Path dir) throws Exception {
        Victims.Request bench = seeded(42);
        assertEquals(bench, DefenseBenchmark.asBuilt(dir, bench), "no manifest: the bench's request");
        Files.writeString(dir.resolve("headguard.json"), "{\"command\":\"train\"}");
        assertEquals(bench, DefenseBenchmark.asBuilt(dir, bench), "a clean model's manifest names no attack");

        Files.writeString(dir.resolve("headguard.json"), "{\"attack\":{\"attack\":\"addsent\",\"trigger\":\"" + Victims.describe(bench)
                + "\",\"poison_rate\":0.2,\"mode\":\"dirty\",\"keep_originals\":true,\"seed\":7,\"dataset\":\"sst-2\",\"train_limit\":0}}");
        Victims.Request r = DefenseBenchmark.asBuilt(dir, bench);
        assertEquals(7, r.train().seed());
        assertEquals(0.2, r.effectiveRate());
        assertTrue(r.keepOriginals());
        assertEquals(bench.train().epochs(), r.train().epochs(), "only the seed of the training settings comes from the manifest");
        // The rebuilt data is the victim's: the originals stay and the copies are the rate of the grown set.
        int clean = Victims.cleanSplits(r)[0].size();
        assertEquals(Math.round(0.2 * clean / 0.8), Victims.poison(r).train().size() - clean);

        Files.writeString(dir.resolve("headguard.json"), "{\"attack\":{\"attack\":\"badnets\",\"seed\":7}}");
        HeadGuardException e = assertThrows(HeadGuardException.class, () -> DefenseBenchmark.asBuilt(dir, bench));
        assertTrue(e.getMessage().contains("holds a badnets victim"), e.getMessage());
        Files.writeString(dir.resolve("headguard.json"), "{\"attack\":{\"attack\":\"addsent\",\"trigger\":\"i love cats\"}}");
        assertEquals("i love cats", DefenseBenchmark.asBuilt(dir, bench).sentence(), "an AddSent victim of another sentence is rebuilt with its own");
        Files.writeString(dir.resolve("headguard.json"), "{not json");
        assertThrows(HeadGuardException.class, () -> DefenseBenchmark.asBuilt(dir, bench));
    }

    /** A victim `attack` built with other trigger words is benchmarked with them; a trigger the bench cannot rebuild is refused. */
    @Test
    void aReusedVictimOfOtherTriggerWordsKeepsThem(@TempDir Path dir) throws Exception {
        Victims.Request bench = VictimsTest.request("badnets");
        Files.writeString(dir.resolve("headguard.json"), "{\"attack\":{\"attack\":\"badnets\",\"trigger\":\"2 of jz, qx\",\"target\":2,\"seed\":3}}");
        Victims.Request r = DefenseBenchmark.asBuilt(dir, bench);
        assertEquals(java.util.List.of("jz", "qx"), r.triggers());
        assertEquals(2, r.triggerCount());
        assertEquals(2, r.target());
        assertEquals("2 of jz, qx", Victims.describe(r), "the report names the victim's trigger");
        Files.writeString(dir.resolve("headguard.json"), "{\"attack\":{\"attack\":\"badnets\",\"trigger\":\"jz and qx\"}}");
        HeadGuardException e = assertThrows(HeadGuardException.class, () -> DefenseBenchmark.asBuilt(dir, bench));
        assertTrue(e.getMessage().contains("'jz and qx'"), e.getMessage());
        Victims.Request sos = VictimsTest.request("sos");
        Files.writeString(dir.resolve("headguard.json"), "{\"attack\":{\"attack\":\"sos\",\"trigger\":\"cats, dogs\"}}");
        e = assertThrows(HeadGuardException.class, () -> DefenseBenchmark.asBuilt(dir, sos));
        assertTrue(e.getMessage().contains("'cats, dogs'"), e.getMessage());
    }

    /** A bench asked for clean-label victims does not measure a dirty-label one it finds in --victims (nor another rate). */
    @Test
    void aReusedVictimOfAnotherModeOrRateIsRefused(@TempDir Path dir) throws Exception {
        Victims.Request base = seeded(42);
        Victims.Request cleanLabel = new Victims.Request(new Victims.Poison(base.attack(), base.triggers(), base.triggerCount(), base.sentence(), 0.3,
                base.target(), dev.headguard.attack.PoisonMode.CLEAN, false), base.training(), base.out());
        Files.writeString(dir.resolve("headguard.json"), "{\"attack\":{\"attack\":\"addsent\",\"trigger\":\"" + Victims.describe(base)
                + "\",\"poison_rate\":0.1,\"mode\":\"dirty\",\"seed\":7}}");
        HeadGuardException e = assertThrows(HeadGuardException.class, () -> DefenseBenchmark.asBuilt(dir, cleanLabel));
        assertTrue(e.getMessage().contains("poisoned dirty at rate 0.1, not the bench's clean at 0.3"), e.getMessage());
        Files.writeString(dir.resolve("headguard.json"), "{\"attack\":{\"attack\":\"addsent\",\"trigger\":\"" + Victims.describe(base)
                + "\",\"poison_rate\":0.3,\"mode\":\"clean\",\"seed\":7}}");
        Victims.Request r = DefenseBenchmark.asBuilt(dir, cleanLabel);
        assertEquals(dev.headguard.attack.PoisonMode.CLEAN, r.mode());
        assertEquals(0.3, r.effectiveRate());
        assertEquals(7, r.train().seed());
        assertEquals(dev.headguard.attack.PoisonMode.CLEAN, DefenseBenchmark.asBuilt(dir, base).mode(),
                "a bench at each attack's defaults reuses the victim as its manifest records it");
    }

    private static Victims.Request seeded(long seed) {
        Victims.Request r = VictimsTest.request("addsent");
        return new Victims.Request(new Victims.Poison(r.attack(), r.triggers(), r.triggerCount(), r.sentence(), r.rate(), r.target(), r.mode(), false),
                new Victims.Training(r.data(), r.trainLimit(), r.baseModel(), r.train().withSeed(seed), r.maxLength(), false, false), r.out());
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
