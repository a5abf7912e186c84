package dev.headguard.model.io;

import dev.headguard.HeadGuardException;
import dev.headguard.model.DType;
import dev.headguard.model.HostTensor;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parts of an ONNX model that an importer needs: initializers (weights), nodes (op type,
 * inputs, outputs, constant tensors) and the graph's input and output names.
 *
 * <p>Field numbers follow onnx.proto3: ModelProto.graph = 7; GraphProto node = 1,
 * initializer = 5, input = 11, output = 12; NodeProto input = 1, output = 2, name = 3,
 * op_type = 4, attribute = 5; AttributeProto name = 1, f = 2, i = 3, t = 5;
 * TensorProto dims = 1, data_type = 2, float_data = 4, int32_data = 5, int64_data = 7,
 * name = 8, raw_data = 9, double_data = 10, data_location = 14.
 */
public record OnnxGraph(Map<String, HostTensor> initializers, List<Node> nodes, List<String> inputs, List<String> outputs) {

    /** One operator: a {@code Constant} node carries its value in {@code constant}. */
    public record Node(String name, String opType, List<String> inputs, List<String> outputs, HostTensor constant) {}

    /** Parses a file. */
    public static OnnxGraph read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new HeadGuardException(file + ": file not found");
        } catch (IOException | OutOfMemoryError e) {
            throw new HeadGuardException(file + ": cannot read (" + e.getMessage() + ")");
        }
        return parse(ByteBuffer.wrap(bytes), file.toString());
    }

    /** Parses a stream, e.g. a resource inside a jar. */
    public static OnnxGraph read(InputStream in, String source) throws IOException {
        return parse(ByteBuffer.wrap(in.readAllBytes()), source);
    }

    static OnnxGraph parse(ByteBuffer bytes, String source) {
        try {
            ProtoReader model = new ProtoReader(bytes);
            ProtoReader graph = null;
            while (model.next()) {
                if (model.field() == 7 && model.wireType() == ProtoReader.LENGTH_DELIMITED) {
                    graph = model.readMessage();
                } else {
                    model.skip();
                }
            }
            if (graph == null) {
                throw new HeadGuardException(source + ": not an ONNX model (no graph found)");
            }
            Map<String, HostTensor> inits = new LinkedHashMap<>();
            List<Node> nodes = new ArrayList<>();
            List<String> inputs = new ArrayList<>();
            List<String> outputs = new ArrayList<>();
            while (graph.next()) {
                switch (graph.field()) {
                    case 1 -> nodes.add(readNode(graph.readMessage(), source));
                    case 5 -> {
                        Named t = readTensor(graph.readMessage(), source);
                        inits.put(t.name, t.tensor);
                    }
                    case 11 -> inputs.add(valueInfoName(graph.readMessage()));
                    case 12 -> outputs.add(valueInfoName(graph.readMessage()));
                    default -> graph.skip();
                }
            }
            return new OnnxGraph(inits, nodes, inputs, outputs);
        } catch (ProtoReader.MalformedException | java.nio.BufferUnderflowException | IllegalArgumentException | ArithmeticException e) {
            throw new HeadGuardException(source + ": corrupt ONNX file (" + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()) + ")");
        }
    }

    /** The node that produces {@code output}, or null. */
    public Node producer(String output) {
        for (Node n : nodes) {
            if (n.outputs.contains(output)) {
                return n;
            }
        }
        return null;
    }

    /** The nodes that read {@code value}. */
    public List<Node> consumers(String value) {
        List<Node> out = new ArrayList<>();
        for (Node n : nodes) {
            if (n.inputs.contains(value)) {
                out.add(n);
            }
        }
        return out;
    }

    /** The value of an initializer or of a Constant node's output, or null. */
    public HostTensor constant(String value) {
        HostTensor t = initializers.get(value);
        if (t != null) {
            return t;
        }
        Node p = producer(value);
        return p != null && p.opType.equals("Constant") ? p.constant : null;
    }

    private record Named(String name, HostTensor tensor) {}

    private static String valueInfoName(ProtoReader r) {
        String name = "";
        while (r.next()) {
            if (r.field() == 1) {
                name = r.readString();
            } else {
                r.skip();
            }
        }
        return name;
    }

    private static Node readNode(ProtoReader r, String source) {
        String name = "";
        String op = "";
        List<String> ins = new ArrayList<>();
        List<String> outs = new ArrayList<>();
        HostTensor constant = null;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> ins.add(r.readString());
                case 2 -> outs.add(r.readString());
                case 3 -> name = r.readString();
                case 4 -> op = r.readString();
                case 5 -> {
                    HostTensor v = readConstantAttribute(r.readMessage(), source);
                    if (v != null) {
                        constant = v;
                    }
                }
                default -> r.skip();
            }
        }
        return new Node(name, op, List.copyOf(ins), List.copyOf(outs), constant);
    }

    /** The tensor of a Constant node's {@code value}, {@code value_float} or {@code value_int} attribute. */
    private static HostTensor readConstantAttribute(ProtoReader r, String source) {
        String name = "";
        HostTensor t = null;
        Float f = null;
        Long i = null;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> name = r.readString();
                case 2 -> f = r.wireType() == ProtoReader.FIXED32 ? r.readFloat() : skipNull(r);
                case 3 -> i = r.wireType() == ProtoReader.VARINT ? r.readVarint() : skipNullLong(r);
                case 5 -> t = readTensor(r.readMessage(), source).tensor;
                default -> r.skip();
            }
        }
        return switch (name) {
            case "value" -> t;
            case "value_float" -> f == null ? null : HostTensor.ofFloats(new float[] {f});
            case "value_int" -> {
                if (i == null) {
                    yield null;
                }
                ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, i);
                yield new HostTensor(DType.I64, new long[0], b);
            }
            default -> null;
        };
    }

    private static Float skipNull(ProtoReader r) {
        r.skip();
        return null;
    }

    private static Long skipNullLong(ProtoReader r) {
        r.skip();
        return null;
    }

    private static Named readTensor(ProtoReader r, String source) {
        List<Long> dims = new ArrayList<>();
        int dataType = 0;
        String name = "";
        ByteBuffer raw = null;
        List<ByteBuffer> typed = new ArrayList<>(); // float_data / int32_data / int64_data / double_data payloads
        int typedField = 0;
        boolean external = false;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> r.readInt64s(dims);
                case 2 -> dataType = (int) r.readVarint();
                case 8 -> name = r.readString();
                case 9 -> raw = r.readBytes();
                case 4, 5, 7, 10 -> {
                    if (r.wireType() != ProtoReader.LENGTH_DELIMITED) {
                        throw new ProtoReader.MalformedException("unpacked typed data in tensor '" + name + "' is not supported");
                    }
                    typedField = r.field();
                    typed.add(r.readBytes());
                }
                case 14 -> external = r.readVarint() == 1;
                default -> r.skip();
            }
        }
        if (external) {
            throw new HeadGuardException(source + ": tensor '" + name + "' is stored in an external data file, which HeadGuard does not read; re-export with the weights inside the .onnx file");
        }
        DType dtype = DType.ofOnnxCode(dataType);
        if (dtype == null) {
            throw new HeadGuardException(source + ": tensor '" + name + "' has ONNX data type " + dataType + ", which HeadGuard does not read");
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        long count;
        try {
            count = HostTensor.elementCount(shape);
        } catch (ArithmeticException | IllegalArgumentException e) {
            throw new ProtoReader.MalformedException("tensor '" + name + "' has an invalid shape");
        }
        ByteBuffer data;
        if (raw != null) {
            data = raw;
        } else if (!typed.isEmpty()) {
            data = decodeTyped(typed, typedField, dtype, count, name);
        } else {
            data = ByteBuffer.allocate(0);
        }
        if (data.remaining() != count * dtype.size) {
            throw new ProtoReader.MalformedException("tensor '" + name + "' holds " + data.remaining() + " bytes for " + count + " elements of " + dtype);
        }
        return new Named(name, new HostTensor(dtype, shape, data));
    }

    /** Converts the packed typed fields (float_data, double_data, int64_data, int32_data) into little-endian bytes of {@code dtype}. */
    private static ByteBuffer decodeTyped(List<ByteBuffer> parts, int field, DType dtype, long count, String name) {
        boolean supported = (field == 4 && dtype == DType.F32) || (field == 10 && dtype == DType.F64)
                || (field == 7 && dtype == DType.I64) || (field == 5 && dtype == DType.I32);
        if (!supported) {
            throw new ProtoReader.MalformedException("tensor '" + name + "' stores " + dtype + " in field " + field + ", not supported");
        }
        if (count > Integer.MAX_VALUE / 8) {
            throw new ProtoReader.MalformedException("tensor '" + name + "' too large");
        }
        ByteBuffer out = ByteBuffer.allocate((int) count * dtype.size).order(ByteOrder.LITTLE_ENDIAN);
        for (ByteBuffer p : parts) {
            while (p.hasRemaining()) {
                if (!out.hasRemaining()) {
                    throw new ProtoReader.MalformedException("tensor '" + name + "' holds more values than its shape");
                }
                switch (field) {
                    case 4 -> out.putFloat(p.getFloat());
                    case 10 -> out.putDouble(p.getDouble());
                    case 7 -> out.putLong(readVarint(p));
                    default -> out.putInt((int) readVarint(p));
                }
            }
        }
        out.flip();
        return out;
    }

    private static long readVarint(ByteBuffer p) {
        long result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (!p.hasRemaining()) {
                throw new ProtoReader.MalformedException("truncated varint");
            }
            byte b = p.get();
            result |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return result;
            }
        }
        throw new ProtoReader.MalformedException("varint too long");
    }
}
