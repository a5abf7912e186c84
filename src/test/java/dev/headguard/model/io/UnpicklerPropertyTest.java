package dev.headguard.model.io;

import dev.headguard.HeadGuardException;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A state dict's pickle with any byte changed is read (to the same shape) or refused in one line; nothing else escapes. */
class UnpicklerPropertyTest {

    /** {"w": float32 (2, 3) over storage "0"}, as Python's pickle writes a torch.save state dict (protocol 2). */
    static byte[] pickle() {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.writeBytes(new byte[] {(byte) 0x80, 2});
        o.writeBytes("ccollections\nOrderedDict\n)R".getBytes(StandardCharsets.US_ASCII));
        str(o, "w");
        o.writeBytes("ctorch._utils\n_rebuild_tensor_v2\n((".getBytes(StandardCharsets.US_ASCII));
        str(o, "storage");
        o.writeBytes("ctorch\nFloatStorage\n".getBytes(StandardCharsets.US_ASCII));
        str(o, "0");
        str(o, "cpu");
        o.writeBytes(new byte[] {'K', 6, 't', 'Q', 'K', 0, 'K', 2, 'K', 3, (byte) 0x86, 'K', 3, 'K', 1, (byte) 0x86, (byte) 0x89});
        o.writeBytes("ccollections\nOrderedDict\n)RtRs.".getBytes(StandardCharsets.US_ASCII));
        return o.toByteArray();
    }

    private static void str(ByteArrayOutputStream o, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        o.writeBytes(ByteBuffer.allocate(5).order(ByteOrder.LITTLE_ENDIAN).put((byte) 'X').putInt(b.length).array());
        o.writeBytes(b);
    }

    @Property(tries = 400)
    void anyChangedByteIsReadOrRefusedInOneLine(@ForAll @IntRange(min = 0, max = 400) int position, @ForAll byte value) throws IOException {
        byte[] p = pickle();
        p[position % p.length] = value;
        Path dir = Files.createTempDirectory("unpickle");
        Path bin = dir.resolve("pytorch_model.bin");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(bin))) {
            z.putNextEntry(new ZipEntry("archive/data.pkl"));
            z.write(p);
            z.putNextEntry(new ZipEntry("archive/data/0"));
            z.write(new byte[24]);
        }
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
        Path bin = dir.resolve("pytorch_model.bin");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(bin))) {
            z.putNextEntry(new ZipEntry("archive/data.pkl"));
            z.write(pickle());
            z.putNextEntry(new ZipEntry("archive/data/0"));
            z.write(new byte[24]);
        }
        assertEquals(6, TorchCheckpoint.read(bin).get("w").elementCount());
        ModelStore.deleteRecursively(dir);
    }
}
