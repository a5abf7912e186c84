package dev.headguard.model.io;

import dev.headguard.HeadGuardException;
import dev.headguard.model.HostTensor;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A state dict's pickle with any byte changed is read (to the same shape) or refused in one line; nothing else escapes. */
class UnpicklerPropertyTest {

    /** {"w": float32 (2, 3)}, as torch.save writes it. */
    static List<TorchCheckpoint.Entry> stateDict() {
        return TorchCheckpoint.entries(Map.of("w", HostTensor.ofFloats(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)));
    }

    @Property(tries = 400)
    void anyChangedByteIsReadOrRefusedInOneLine(@ForAll @IntRange(min = 0, max = 400) int position, @ForAll byte value) throws IOException {
        readOrRefuseInOneLine(position, value);
    }

    /** The two changes (of all 185 x 256) that once escaped as a ClassCastException: a size and a stride made strings. */
    @Example
    void aSizeOrStrideMadeAStringIsRefused() throws IOException {
        readOrRefuseInOneLine(135, (byte) 140);
        readOrRefuseInOneLine(142, (byte) 140);
    }

    private static void readOrRefuseInOneLine(int position, byte value) throws IOException {
        List<TorchCheckpoint.Entry> entries = stateDict();
        byte[] p = entries.get(0).bytes().clone();
        p[position % p.length] = value;
        Path dir = Files.createTempDirectory("unpickle");
        Path bin = Files.write(dir.resolve("pytorch_model.bin"), TorchCheckpoint.zip(entries, p));
        try {
            var tensors = TorchCheckpoint.read(bin);
            tensors.values().forEach(t -> assertTrue(t.elementCount() <= 6));
        } catch (HeadGuardException e) {
            assertTrue(e.getMessage().startsWith(bin.toString()) && !e.getMessage().contains("\n"), e.getMessage());
        } finally {
            ModelStore.deleteRecursively(dir);
        }
    }

    @Property(tries = 1)
    void theUnchangedPickleReads() throws IOException {
        Path dir = Files.createTempDirectory("unpickle");
        Path bin = Files.write(dir.resolve("pytorch_model.bin"), TorchCheckpoint.zip(stateDict()));
        HostTensor w = TorchCheckpoint.read(bin).get("w");
        assertArrayEquals(new long[] {2, 3}, w.shape());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, w.toFloats());
        ModelStore.deleteRecursively(dir);
    }
}
