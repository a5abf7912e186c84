package dev.headguard.model.io;

import dev.headguard.HeadGuardException;
import dev.headguard.model.HostTensor;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile files: random bytes, and valid files with a mutated header or length. The reader must
 * either return tensors that exactly tile the data, or throw {@link HeadGuardException}; nothing
 * else (no other exception, no huge allocation).
 */
class SafeTensorsPropertyTest {
    private static final String VALID =
            "{\"__metadata__\":{\"format\":\"pt\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},\"b\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[24,40]}}";

    @Property(tries = 300)
    void randomBytesNeverEscapeAsAnythingElse(@ForAll("bytes") byte[] bytes) throws IOException {
        readOrReject(bytes);
    }

    @Property(tries = 500)
    void mutatedHeadersAreReadConsistentlyOrRejected(@ForAll @IntRange(min = 0, max = 200) int position,
                                                     @ForAll("replacement") String replacement,
                                                     @ForAll @IntRange(min = -64, max = 64) int lengthDelta,
                                                     @ForAll @IntRange(min = -8, max = 8) int dataDelta) throws IOException {
        String header = VALID;
        int at = Math.min(position, header.length());
        header = header.substring(0, at) + replacement + header.substring(Math.min(header.length(), at + replacement.length()));
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        int data = Math.max(0, 40 + dataDelta);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + data).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length + (long) lengthDelta).put(h);
        readOrReject(b.array());
    }

    @Provide
    Arbitrary<byte[]> bytes() {
        return Arbitraries.bytes().array(byte[].class).ofMinSize(0).ofMaxSize(300);
    }

    @Provide
    Arbitrary<String> replacement() {
        return Arbitraries.oneOf(
                Arbitraries.of("9", "99999999999999999999", "-1", "\"", "}", "[", "]", ",", "F64", "BOOL", "null", "0", "1e3", "\"shape\""),
                Arbitraries.strings().ofMaxLength(4));
    }

    private static void readOrReject(byte[] bytes) throws IOException {
        Path p = Files.createTempFile("prop", ".safetensors");
        try {
            Files.write(p, bytes);
            SafeTensors.Contents c;
            try {
                c = SafeTensors.read(p);
            } catch (HeadGuardException expected) {
                assertTrue(expected.getMessage().startsWith(p.toString()));
                return;
            }
            long headerLen = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            long dataLen = bytes.length - 8 - headerLen;
            long covered = 0;
            for (Map.Entry<String, HostTensor> e : c.tensors().entrySet()) {
                HostTensor t = e.getValue();
                assertEquals(t.elementCount() * t.dtype().size, t.byteCount());
                covered += t.byteCount();
            }
            assertEquals(dataLen, covered, "accepted tensors tile the data region");
        } finally {
            Files.deleteIfExists(p);
        }
    }

}
