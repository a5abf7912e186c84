package dev.headguard.model;

import java.util.Locale;

/** Element types a weight file may hold, with their safetensors names and ONNX codes. */
public enum DType {
    F64(8, 11), F32(4, 1), F16(2, 10), BF16(2, 16), I64(8, 7), I32(4, 6), I16(2, 5), I8(1, 3), U8(1, 2), BOOL(1, 9);

    /** Bytes per element. */
    public final int size;
    /** The {@code TensorProto.DataType} code of ONNX. */
    public final int onnxCode;

    DType(int size, int onnxCode) {
        this.size = size;
        this.onnxCode = onnxCode;
    }

    /** The dtype for a safetensors name, or null when the name is unknown. */
    public static DType ofSafetensorsName(String name) {
        for (DType d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }

    /** The dtype for an ONNX code, or null when HeadGuard does not read that type. */
    public static DType ofOnnxCode(int code) {
        for (DType d : values()) {
            if (d.onnxCode == code) {
                return d;
            }
        }
        return null;
    }

    public String lower() {
        return name().toLowerCase(Locale.ROOT);
    }
}
