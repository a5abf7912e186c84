package dev.headguard.model.io;

import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.HostTensor;
import dev.headguard.testing.HfOracle;
import dev.headguard.text.TokenBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** pytorch_model.bin read without executing it: real torch.save output read, hostile and broken pickles refused. */
class TorchCheckpointTest {

    /** A BERT classifier saved by torch.save gives the same logits as its safetensors twin (both made by transformers). */
    @Test
    void readsATorchSaveStateDict(@TempDir Path tmp) throws Exception {
        Path fx = HfOracle.fixtures();
        Path dir = tmp.resolve("bin");
        Files.createDirectories(dir);
        Files.copy(fx.resolve("bert/config.json"), dir.resolve("config.json"));
        Files.copy(fx.resolve("bert/tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.copy(fx.resolve("bert-bin/pytorch_model.bin"), dir.resolve("pytorch_model.bin"));
        Map<String, HostTensor> bin = TorchCheckpoint.read(dir.resolve("pytorch_model.bin"));
        Map<String, HostTensor> st = SafeTensors.read(fx.resolve("bert/model.safetensors")).tensors();
        for (Map.Entry<String, HostTensor> e : st.entrySet()) {
            assertTrue(bin.containsKey(e.getKey()), e.getKey());
            assertArrayEquals(e.getValue().toFloats(), bin.get(e.getKey()).toFloats(), e.getKey());
        }
        List<String> sentences = Files.readAllLines(fx.resolve("bert/sentences.txt")).stream().filter(s -> !s.isEmpty()).toList();
        try (NDManager root = NDManager.newBaseManager(); ModelStore.LoadedModel m = ModelStore.load(dir, root, 0)) {
            TokenBatch.Arrays in = m.tokenizer().encode(sentences).toArrays(root);
            float[] logits = m.model().forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), ForwardOptions.INFERENCE).logits().toFloatArray();
            assertArrayEquals(SafeTensors.read(fx.resolve("bert/reference.safetensors")).tensors().get("logits").toFloats(), logits, 1e-4f);
        }
    }

    /** Pickle pieces, as Python's pickle writes them (protocol 2 unless stated). */
    private static final byte[] PROTO2 = {(byte) 0x80, 2};

    private static byte[] global(String module, String name) {
        return ("c" + module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        ByteBuffer x = ByteBuffer.allocate(5 + b.length).order(ByteOrder.LITTLE_ENDIAN);
        x.put((byte) 'X').putInt(b.length).put(b);
        return x.array();
    }

    private static byte[] cat(Object... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (Object p : parts) {
            byte[] b = p instanceof byte[] a ? a : p instanceof String s ? s.getBytes(StandardCharsets.ISO_8859_1) : new byte[] {(byte) (int) (Integer) p};
            o.writeBytes(b);
        }
        return o.toByteArray();
    }

    private static final String TOUCH = "touch ";

    /** Five payload styles that run a command when unpickled by Python; each would create the marker file. */
    static Stream<Object[]> hostile() {
        return Stream.of(
                new Object[] {"os.system via REDUCE", (java.util.function.Function<String, byte[]>) m ->
                        cat(PROTO2, global("posix", "system"), str(TOUCH + m), 0x85, "R.")},
                new Object[] {"builtins.eval", (java.util.function.Function<String, byte[]>) m ->
                        cat(PROTO2, global("builtins", "eval"), str("__import__('os').system('" + TOUCH + m + "')"), 0x85, "R.")},
                new Object[] {"subprocess.Popen", (java.util.function.Function<String, byte[]>) m ->
                        cat(PROTO2, global("subprocess", "Popen"), "(", str("touch"), str(m), "l", 0x85, "R.")},
                new Object[] {"builtins.exec by STACK_GLOBAL (protocol 4)", (java.util.function.Function<String, byte[]>) m ->
                        cat(new byte[] {(byte) 0x80, 4}, (byte[]) shortStr("builtins"), shortStr("exec"), 0x93,
                                str("import os; os.system('" + TOUCH + m + "')"), 0x85, "R.")},
                new Object[] {"INST opcode (protocol 0)", (java.util.function.Function<String, byte[]>) m ->
                        cat("(S'" + TOUCH + m + "'\nios\nsystem\n.")},
                new Object[] {"os.system hidden in a state dict's value", (java.util.function.Function<String, byte[]>) m ->
                        cat(PROTO2, global("collections", "OrderedDict"), ")R", str("w"), global("os", "system"), str(TOUCH + m), 0x85, "Rs.")},
                new Object[] {"allowed rebuild called with a hostile storage type", (java.util.function.Function<String, byte[]>) m ->
                        cat(PROTO2, global("collections", "OrderedDict"), ")R", str("w"), global("torch._utils", "_rebuild_tensor_v2"), "((",
                                str("storage"), global("torch", "load"), str("0"), str("cpu"), "K", 1, "tQ", "tRs.")});
    }

    private static byte[] shortStr(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return cat(new byte[] {(byte) 0x8c, (byte) b.length}, b);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostile")
    void refusesHostilePicklesWithoutRunningThem(String style, java.util.function.Function<String, byte[]> payload, @TempDir Path tmp) throws IOException {
        Path marker = tmp.resolve("pwned");
        Path bin = writeZip(tmp.resolve("pytorch_model.bin"), payload.apply(marker.toString()), Map.of());
        HeadGuardException e = assertThrows(HeadGuardException.class, () -> TorchCheckpoint.read(bin));
        assertTrue(e.getMessage().startsWith(bin + ": refused "), e.getMessage());
        assertTrue(e.getMessage().contains("nothing was executed"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        assertFalse(Files.exists(marker), style + ": the payload ran");
    }

    /** A one-tensor state dict {"w": float32 tensor of `numel` elements, shape (rows, cols)} over storage "0". */
    private static byte[] stateDict(long numel, int rows, int cols) {
        return cat(PROTO2, global("collections", "OrderedDict"), ")R", str("w"), global("torch._utils", "_rebuild_tensor_v2"), "((",
                str("storage"), global("torch", "FloatStorage"), str("0"), str("cpu"), "J", le((int) numel), "tQK", 0,
                "K", rows, "K", cols, 0x86, "K", cols, "K", 1, 0x86, 0x89, global("collections", "OrderedDict"), ")RtRs.");
    }

    private static byte[] le(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    @Test
    void readsAHandWrittenStateDictAndRefusesBrokenOnes(@TempDir Path tmp) throws IOException {
        byte[] six = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putFloat(1).putFloat(2).putFloat(3).putFloat(4).putFloat(5).putFloat(6).array();
        Path ok = writeZip(tmp.resolve("ok.bin"), stateDict(6, 2, 3), Map.of("0", six));
        HostTensor w = TorchCheckpoint.read(ok).get("w");
        assertArrayEquals(new long[] {2, 3}, w.shape());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, w.toFloats());

        // a storage shorter than it declares; a tensor reaching past its storage; a truncated pickle; a missing storage; not a zip
        assertRefused(writeZip(tmp.resolve("a.bin"), stateDict(6, 2, 3), Map.of("0", java.util.Arrays.copyOf(six, 20))), "declares 6 elements");
        assertRefused(writeZip(tmp.resolve("b.bin"), stateDict(6, 3, 3), Map.of("0", six)), "reaches element 8 but the storage holds 6");
        byte[] full = stateDict(6, 2, 3);
        assertRefused(writeZip(tmp.resolve("c.bin"), java.util.Arrays.copyOf(full, full.length - 9), Map.of("0", six)), "truncated or malformed");
        assertRefused(writeZip(tmp.resolve("d.bin"), stateDict(6, 2, 3), Map.of()), "storage 0 is named but missing");
        Path notZip = tmp.resolve("e.bin");
        Files.write(notZip, cat(PROTO2, "}."));
        assertRefused(notZip, "not a readable PyTorch zip checkpoint");
        Path truncatedZip = tmp.resolve("f.bin");
        byte[] z = Files.readAllBytes(ok);
        Files.write(truncatedZip, java.util.Arrays.copyOf(z, z.length / 2));
        assertRefused(truncatedZip, "");
    }

    private static void assertRefused(Path bin, String reason) {
        HeadGuardException e = assertThrows(HeadGuardException.class, () -> TorchCheckpoint.read(bin));
        assertTrue(e.getMessage().startsWith(bin.toString()) && e.getMessage().contains(reason), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    private static Path writeZip(Path file, byte[] pickle, Map<String, byte[]> storages) throws IOException {
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
            z.putNextEntry(new ZipEntry("archive/data.pkl"));
            z.write(pickle);
            z.closeEntry();
            for (Map.Entry<String, byte[]> e : storages.entrySet()) {
                z.putNextEntry(new ZipEntry("archive/data/" + e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return file;
    }
}
