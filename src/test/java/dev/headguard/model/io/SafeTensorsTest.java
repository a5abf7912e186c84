package dev.headguard.model.io;

import dev.headguard.HeadGuardException;
import dev.headguard.model.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafeTensorsTest {
    @TempDir
    Path tmp;

    static byte[] file(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return b.array();
    }

    Path write(byte[] bytes) throws IOException {
        Path p = Files.createTempFile(tmp, "t", ".safetensors");
        Files.write(p, bytes);
        return p;
    }

    String error(byte[] bytes) throws IOException {
        Path p = write(bytes);
        HeadGuardException e = assertThrows(HeadGuardException.class, () -> SafeTensors.read(p));
        assertTrue(e.getMessage().startsWith(p.toString()), "the message names the file: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void writesAndReadsBackBitIdentical() throws IOException {
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put("a", HostTensor.ofFloats(new float[] {1f, -2.5f, Float.MIN_VALUE, Float.NaN, 3e38f, -0f}, 2, 3));
        t.put("b", HostTensor.ofFloats(new float[] {7f}, 1));
        t.put("empty", HostTensor.ofFloats(new float[0], 0, 4));
        Path p = tmp.resolve("m.safetensors");
        SafeTensors.write(p, t, Map.of("format", "pt"));
        SafeTensors.Contents c = SafeTensors.read(p);
        assertEquals(Map.of("format", "pt"), c.metadata());
        assertEquals(t.keySet(), c.tensors().keySet());
        for (String k : t.keySet()) {
            assertTrue(t.get(k).sameContent(c.tensors().get(k)), k);
        }
        assertEquals(0, (Files.size(p) - 8 - ByteBuffer.wrap(Files.readAllBytes(p), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong()) % 4);
    }

    @Test
    void readsHalfAndBfloat16AsFloat() throws IOException {
        byte[] f = file("{\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[4,6]}}", 6);
        ByteBuffer b = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
        int data = f.length - 6;
        b.putShort(data, (short) 0x3c00);      // 1.0 in half precision
        b.putShort(data + 2, (short) 0xc000);  // -2.0
        b.putShort(data + 4, (short) 0x4049);  // bfloat16 of 3.140625
        SafeTensors.Contents c = SafeTensors.read(write(f));
        assertArrayEquals(new float[] {1f, -2f}, c.tensors().get("h").toFloats());
        assertArrayEquals(new float[] {3.140625f}, c.tensors().get("b").toFloats());
    }

    @Test
    void rejectsATruncatedFile() throws IOException {
        byte[] f = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16);
        assertTrue(error(java.util.Arrays.copyOf(f, f.length - 5)).contains("data"));
        assertTrue(error(java.util.Arrays.copyOf(f, 20)).contains("header length"));
        assertTrue(error(new byte[3]).contains("too short"));
    }

    @Test
    void rejectsOffsetsPastTheEnd() throws IOException {
        assertTrue(error(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8)).contains("outside"));
    }

    @Test
    void rejectsOverlappingTensors() throws IOException {
        String h = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        assertTrue(error(file(h, 12)).contains("overlaps"));
    }

    @Test
    void rejectsHolesAndShapeMismatch() throws IOException {
        assertTrue(error(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12)).contains("belong to no tensor"));
        assertTrue(error(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8)).contains("needs 12 bytes"));
    }

    @Test
    void rejectsUnknownDtypeAndBadJson() throws IOException {
        assertTrue(error(file("{\"a\":{\"dtype\":\"F8_E9\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1)).contains("unknown dtype"));
        assertTrue(error(file("{\"a\":", 0)).contains("not valid JSON"));
        assertTrue(error(file("[1,2]", 0)).contains("not a JSON object"));
    }

    @Test
    void rejectsAbsurdSizesWithoutAllocating() throws IOException {
        // 2^62 elements would need exabytes: refused from the header alone.
        assertTrue(error(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,4]}}", 4)).contains("overflow"));
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE);
        assertTrue(error(b.array()).contains("header length"));
    }

    @Test
    void missingFileIsNamed() {
        HeadGuardException e = assertThrows(HeadGuardException.class, () -> SafeTensors.read(tmp.resolve("nope.safetensors")));
        assertTrue(e.getMessage().endsWith("nope.safetensors: file not found"));
    }
}
