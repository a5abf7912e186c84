package dev.headguard.model.io;

import dev.headguard.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CacheSealTest {
    @TempDir
    Path tmp;

    @Test
    void aDamagedCacheIsFoundAndATouchedButEqualOneIsNot() throws IOException {
        Path dir = Fixtures.tinyModelDir(tmp, "cached", 3);
        CacheSeal.seal(dir);
        assertTrue(CacheSeal.intact(dir));
        Path w = dir.resolve(ModelStore.WEIGHTS);
        Files.setLastModifiedTime(w, FileTime.fromMillis(System.currentTimeMillis() + 5_000)); // touched, same bytes
        assertTrue(CacheSeal.intact(dir), "same content: the hash decides");
        byte[] b = Files.readAllBytes(w);
        b[b.length - 1] ^= 1; // one bit of one weight, same size
        Files.write(w, b);
        assertFalse(CacheSeal.intact(dir));
        Files.delete(dir.resolve(ModelStore.TOKENIZER));
        assertFalse(CacheSeal.intact(dir));
    }

    @Test
    void aBuiltinModelImportsIntoAFreshCacheAndIsImportedAgainWhenDamaged() throws IOException {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("HEADGUARD_HOME") == null, "the cache root comes from the environment");
        String before = System.getProperty("headguard.home");
        System.setProperty("headguard.home", tmp.resolve("home").toString());
        try {
            Path dir = BuiltinModel.MINILM.directory();
            assertTrue(Files.isRegularFile(dir.resolve(CacheSeal.FILE)), "sealed on import");
            byte[] good = Files.readAllBytes(dir.resolve(ModelStore.WEIGHTS));
            Files.write(dir.resolve(ModelStore.WEIGHTS), java.util.Arrays.copyOf(good, 1000));
            Path again = BuiltinModel.MINILM.directory();
            assertTrue(java.util.Arrays.equals(good, Files.readAllBytes(again.resolve(ModelStore.WEIGHTS))), "imported again, whole");
        } finally {
            if (before == null) {
                System.clearProperty("headguard.home");
            } else {
                System.setProperty("headguard.home", before);
            }
        }
    }
}
