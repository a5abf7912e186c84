package dev.headguard.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MklDispatchTest {

    private static Path libtorch() throws Exception {
        TorchRuntime.engine();
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().map(l -> l.trim().split("\\s+"))
                .filter(f -> f.length >= 6 && f[5].endsWith("/libtorch_cpu.so")).map(f -> Path.of(f[5])).findFirst().orElseThrow();
    }

    @Test
    void findsMklsObjectsInTheLoadedLibtorch() throws Exception {
        long[] offsets = MklDispatch.symbols(libtorch(), "mkl_serv_intel_cpu_true.cached", "mkl_cpu_type");
        assertNotNull(offsets, "libtorch's symbol table lists MKL's vendor answer and CPU type, in writable segments");
        assertEquals(3, offsets.length);
        assertTrue(offsets[0] > offsets[2] && offsets[1] > offsets[2] && offsets[0] != offsets[1]);
        assertEquals(0, offsets[2] % 4096, "the first segment's address is page-aligned");
    }

    @Test
    void refusesWhatItCannotFind(@TempDir Path dir) throws Exception {
        assertNull(MklDispatch.symbols(libtorch(), "mkl_serv_intel_cpu_true.cached", "no_such_symbol_anywhere"));
        Path notElf = Files.write(dir.resolve("lib.so"), new byte[64]);
        assertNull(MklDispatch.symbols(notElf, "mkl_cpu_type"));
        // a function, not a 4-byte object: refused rather than written over
        assertNull(MklDispatch.symbols(libtorch(), "mkl_serv_intel_cpu_true"));
    }

    @Test
    void productsAreRightWhicheverKernelsRun() {
        String kernels = TorchRuntime.matrixKernels();
        boolean amdAvx512 = cpuinfo().contains("AuthenticAMD") && cpuinfo().contains(" avx512f ");
        if (amdAvx512 && System.getProperty(MklDispatch.PROPERTY) == null) {
            assertEquals(MklDispatch.Outcome.AVX512.words, kernels, "an AMD CPU with AVX-512 gets MKL's AVX-512 kernels");
        }
        try (NDManager m = TorchRuntime.newManager()) {
            // integers small enough that every kernel's float32 sums are exact
            NDArray a = m.randomInteger(-4, 5, new Shape(300, 200), ai.djl.ndarray.types.DataType.INT32).toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
            NDArray b = m.randomInteger(-4, 5, new Shape(200, 170), ai.djl.ndarray.types.DataType.INT32).toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
            float[] got = a.matMul(b).toFloatArray();
            float[] x = a.toFloatArray();
            float[] y = b.toFloatArray();
            for (int i = 0; i < 300; i += 7) {
                for (int j = 0; j < 170; j += 3) {
                    float want = 0;
                    for (int k = 0; k < 200; k++) {
                        want += x[i * 200 + k] * y[k * 170 + j];
                    }
                    assertEquals(want, got[i * 170 + j], 0f, kernels);
                }
            }
        }
    }

    private static String cpuinfo() {
        try {
            return Files.readString(Path.of("/proc/cpuinfo")).replace('\n', ' ') + " ";
        } catch (Exception e) {
            return "";
        }
    }
}
