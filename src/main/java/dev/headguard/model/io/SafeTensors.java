package dev.headguard.model.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.HeadGuardException;
import dev.headguard.model.DType;
import dev.headguard.model.HostTensor;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
 * mapping each tensor name to {@code dtype}, {@code shape} and {@code data_offsets} (relative to
 * the end of the header), then the raw little-endian bytes.
 *
 * <p>Written here rather than taken from {@code NDList.decode} because model files come from
 * strangers: every length is checked against the file before anything is allocated, offsets must
 * tile the data region exactly (no overlap, no hole, nothing past the end, as the reference
 * implementation demands), and every failure is one {@link HeadGuardException} naming the file.
 */
public final class SafeTensors {
    /** Reference implementation's cap on the header (100 MB): a bigger claim is corruption, not a model. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    public static final String METADATA_KEY = "__metadata__";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** A parsed file: tensors in header order, plus the free-form string metadata. */
    public record Contents(Map<String, HostTensor> tensors, Map<String, String> metadata) {}

    private SafeTensors() {}

    /** Reads a whole file, validating it completely first. */
    public static Contents read(Path file) {
        long size;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            size = ch.size();
            if (size < 8) {
                throw bad(file, "file is " + size + " bytes, too short for the 8-byte header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0);
            long headerLen = lenBuf.getLong(0);
            if (headerLen > MAX_HEADER_BYTES || headerLen < 0) {
                throw bad(file, "header length " + Long.toUnsignedString(headerLen) + " is over the format's limit of " + MAX_HEADER_BYTES
                        + " bytes (corrupt, or not a safetensors file)");
            }
            if (headerLen < 2 || headerLen > size - 8) {
                throw bad(file, "header length " + Long.toUnsignedString(headerLen) + " does not fit a file of " + size + " bytes (truncated or not a safetensors file)");
            }
            ByteBuffer headerBuf = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headerBuf, 8);
            long dataStart = 8 + headerLen;
            long dataLen = size - dataStart;
            List<Entry> entries = new ArrayList<>();
            Map<String, String> metadata = parseHeader(file, headerBuf.array(), dataLen, entries);

            Map<String, HostTensor> tensors = new LinkedHashMap<>();
            for (Entry e : entries) {
                if (e.end - e.begin > Integer.MAX_VALUE - 16) {
                    throw bad(file, "tensor '" + e.name + "' is over 2 GiB, which HeadGuard does not load yet");
                }
                ByteBuffer b = ByteBuffer.allocate((int) (e.end - e.begin));
                readFully(ch, b, dataStart + e.begin);
                tensors.put(e.name, new HostTensor(e.dtype, e.shape, b));
            }
            return new Contents(tensors, metadata);
        } catch (NoSuchFileException e) {
            throw new HeadGuardException(file + ": file not found");
        } catch (IOException e) {
            throw new HeadGuardException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    private record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

    /** Checks the header against a data region of {@code dataLen} bytes; fills {@code out} in file order. */
    static Map<String, String> parseHeader(Path file, byte[] header, long dataLen, List<Entry> out) {
        JsonNode root;
        try {
            root = JSON.readTree(new String(header, StandardCharsets.UTF_8).stripTrailing());
        } catch (JsonProcessingException e) {
            throw bad(file, "header is not valid JSON (" + HeadGuardException.brief(e.getOriginalMessage()) + ")");
        }
        if (root == null || !root.isObject()) {
            throw bad(file, "header is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = root.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> f = it.next();
            String name = f.getKey();
            JsonNode v = f.getValue();
            if (name.equals(METADATA_KEY)) {
                if (!v.isObject()) {
                    throw bad(file, "__metadata__ is not an object");
                }
                v.fields().forEachRemaining(m -> {
                    if (!m.getValue().isTextual()) {
                        throw bad(file, "__metadata__ value for '" + m.getKey() + "' is not a string");
                    }
                    metadata.put(m.getKey(), m.getValue().asText());
                });
                continue;
            }
            if (!v.isObject()) {
                throw bad(file, "entry '" + name + "' is not an object");
            }
            JsonNode dt = v.get("dtype");
            DType dtype = dt != null && dt.isTextual() ? DType.ofSafetensorsName(dt.asText()) : null;
            if (dtype == null) {
                throw bad(file, "tensor '" + name + "' has unknown dtype " + (dt == null ? "(missing)" : dt.toString()));
            }
            long[] shape = longs(file, name, "shape", v.get("shape"), -1);
            long[] offsets = longs(file, name, "data_offsets", v.get("data_offsets"), 2);
            long begin = offsets[0];
            long end = offsets[1];
            if (begin > end || end > dataLen) {
                throw bad(file, "tensor '" + name + "' has data_offsets [" + begin + ", " + end + "] outside the " + dataLen + "-byte data region");
            }
            long nbytes;
            try {
                nbytes = Math.multiplyExact(HostTensor.elementCount(shape), (long) dtype.size);
            } catch (ArithmeticException e) {
                throw bad(file, "tensor '" + name + "' has a shape whose size overflows");
            }
            if (nbytes != end - begin) {
                throw bad(file, "tensor '" + name + "' of shape " + java.util.Arrays.toString(shape) + " " + dtype
                        + " needs " + nbytes + " bytes but its offsets span " + (end - begin));
            }
            out.add(new Entry(name, dtype, shape, begin, end));
        }
        // Offsets must tile [0, dataLen) exactly, as in the reference reader.
        List<Entry> sorted = new ArrayList<>(out);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long cursor = 0;
        for (Entry e : sorted) {
            if (e.begin < cursor) {
                throw bad(file, "tensor '" + e.name + "' overlaps another tensor's bytes (offset " + e.begin + " < " + cursor + ")");
            }
            if (e.begin > cursor) {
                throw bad(file, "bytes " + cursor + ".." + e.begin + " of the data region belong to no tensor");
            }
            cursor = e.end;
        }
        if (cursor != dataLen) {
            throw bad(file, "the header describes " + cursor + " data bytes but the file holds " + dataLen);
        }
        return metadata;
    }

    private static long[] longs(Path file, String tensor, String field, JsonNode node, int wantLength) {
        if (node == null || !node.isArray() || (wantLength >= 0 && node.size() != wantLength)) {
            throw bad(file, "tensor '" + tensor + "' has a missing or malformed " + field);
        }
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode x = node.get(i);
            if (!x.isIntegralNumber() || !x.canConvertToLong() || x.asLong() < 0) {
                throw bad(file, "tensor '" + tensor + "' has a non-integer or negative value in " + field);
            }
            out[i] = x.asLong();
        }
        return out;
    }

    /** Writes tensors in the given order; the header is padded with spaces to an 8-byte boundary as the reference writer does. */
    public static void write(Path file, Map<String, HostTensor> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = header.putObject(METADATA_KEY);
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (Map.Entry<String, HostTensor> e : tensors.entrySet()) {
            HostTensor t = e.getValue();
            ObjectNode o = header.putObject(e.getKey());
            o.put("dtype", t.dtype().name());
            ArrayNode shape = o.putArray("shape");
            for (long d : t.shape()) {
                shape.add(d);
            }
            ArrayNode off = o.putArray("data_offsets");
            off.add(offset);
            offset += t.byteCount();
            off.add(offset);
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        try (OutputStream os = Files.newOutputStream(file); WritableByteChannel ch = java.nio.channels.Channels.newChannel(os)) {
            ch.write(head);
            for (HostTensor t : tensors.values()) {
                ByteBuffer d = t.data().duplicate();
                while (d.hasRemaining()) {
                    ch.write(d);
                }
            }
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
            pos += n;
        }
        buf.flip();
    }

    private static HeadGuardException bad(Path file, String problem) {
        return new HeadGuardException(file + ": " + problem);
    }
}
