package dev.headguard.model.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * A bounds-checked reader of the protobuf wire format: just enough to walk an ONNX file without
 * generated classes. Every length is checked against the bytes that remain, so a corrupt file
 * ends in {@link MalformedException}, never in a huge allocation.
 */
final class ProtoReader {
    static final int VARINT = 0;
    static final int FIXED64 = 1;
    static final int LENGTH_DELIMITED = 2;
    static final int FIXED32 = 5;

    static final class MalformedException extends RuntimeException {
        MalformedException(String message) {
            super(message);
        }
    }

    private final ByteBuffer buf;
    private int field;
    private int wireType;

    ProtoReader(ByteBuffer buf) {
        this.buf = buf.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Advances to the next field; false at the end of the message. */
    boolean next() {
        if (!buf.hasRemaining()) {
            return false;
        }
        long key = readVarint();
        field = (int) (key >>> 3);
        wireType = (int) (key & 7);
        if (field <= 0) {
            throw new MalformedException("field number " + field);
        }
        return true;
    }

    int field() {
        return field;
    }

    int wireType() {
        return wireType;
    }

    long readVarint() {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (!buf.hasRemaining()) {
                throw new MalformedException("truncated varint");
            }
            byte b = buf.get();
            result |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
        throw new MalformedException("varint longer than 10 bytes");
    }

    /** The payload of a length-delimited field, as a view (no copy). */
    ByteBuffer readBytes() {
        expect(LENGTH_DELIMITED);
        long len = readVarint();
        if (len < 0 || len > buf.remaining()) {
            throw new MalformedException("length " + len + " past the end of the message (" + buf.remaining() + " bytes left)");
        }
        ByteBuffer out = buf.slice();
        out.limit((int) len);
        buf.position(buf.position() + (int) len);
        return out.order(ByteOrder.LITTLE_ENDIAN);
    }

    String readString() {
        ByteBuffer b = readBytes();
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return new String(a, StandardCharsets.UTF_8);
    }

    ProtoReader readMessage() {
        return new ProtoReader(readBytes());
    }

    float readFloat() {
        expect(FIXED32);
        need(4);
        return buf.getFloat();
    }

    /** A repeated int64 field, packed or not: appends to {@code out}. */
    void readInt64s(java.util.List<Long> out) {
        if (wireType == LENGTH_DELIMITED) {
            ProtoReader packed = new ProtoReader(readBytes());
            while (packed.buf.hasRemaining()) {
                out.add(packed.readVarint());
            }
        } else {
            expect(VARINT);
            out.add(readVarint());
        }
    }

    void skip() {
        switch (wireType) {
            case VARINT -> readVarint();
            case FIXED64 -> {
                need(8);
                buf.position(buf.position() + 8);
            }
            case LENGTH_DELIMITED -> readBytes();
            case FIXED32 -> {
                need(4);
                buf.position(buf.position() + 4);
            }
            default -> throw new MalformedException("unsupported wire type " + wireType + " (field " + field + ")");
        }
    }

    private void expect(int type) {
        if (wireType != type) {
            throw new MalformedException("field " + field + " has wire type " + wireType + ", expected " + type);
        }
    }

    private void need(int n) {
        if (buf.remaining() < n) {
            throw new MalformedException("truncated field " + field);
        }
    }
}
