package dev.headguard.model;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Lets the MKL inside libtorch use its AVX-512 matrix kernels on AMD processors.
 *
 * <p>Why: MKL picks its kernels by CPU vendor before it looks at the instruction sets, and on an
 * AMD CPU it takes a generic path at about half the speed of the AVX-512 one (docs/how-it-works.md,
 * "Design records"). libtorch links MKL statically but
 * keeps its symbols, so the vendor test's cached answer, {@code mkl_serv_intel_cpu_true.cached},
 * sits at a known offset in {@code libtorch_cpu.so}. Before MKL's first call, while that answer and
 * {@code mkl_cpu_type} still read -1 (not yet detected), setting the answer to 1 makes MKL choose
 * by instruction set alone, which is the choice it makes on Intel CPUs with the same features.
 * Anything unexpected (another OS or vendor, no AVX-512, no symbol table, a value already
 * detected) leaves memory alone. {@code -Dheadguard.mkl-vendor-check=keep} turns it off.
 */
final class MklDispatch {
    static final String PROPERTY = "headguard.mkl-vendor-check";
    private static final String VENDOR_ANSWER = "mkl_serv_intel_cpu_true.cached";
    private static final String CPU_TYPE = "mkl_cpu_type";

    private MklDispatch() {}

    /** What {@link #apply()} did, in words for reports. */
    enum Outcome {
        AVX512("MKL AVX-512 kernels (vendor check bypassed on AMD)"),
        NATIVE("MKL's own kernel choice"),
        KEPT("MKL's own kernel choice (-D" + PROPERTY + "=keep)"),
        TOO_LATE("MKL's own kernel choice (MKL had chosen before HeadGuard started the engine)"),
        REFUSED("MKL's own kernel choice (libtorch not as expected)");

        final String words;

        Outcome(String words) {
            this.words = words;
        }
    }

    /** Call once, after libtorch is loaded and before its first matrix product. */
    static Outcome apply() {
        if ("keep".equalsIgnoreCase(System.getProperty(PROPERTY, ""))) {
            return Outcome.KEPT;
        }
        try {
            if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux") || !amdWithAvx512()) {
                return Outcome.NATIVE;
            }
            return bypass();
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Throwable e) {
            return Outcome.REFUSED; // an unreadable map or ELF file, no Unsafe: leave MKL as it is
        }
    }

    private static boolean amdWithAvx512() throws IOException {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (!Files.isReadable(cpuinfo)) {
            return false;
        }
        boolean amd = false;
        boolean avx512 = false;
        for (String line : Files.readAllLines(cpuinfo)) {
            if (line.startsWith("vendor_id")) {
                amd = line.endsWith("AuthenticAMD");
            } else if (line.startsWith("flags")) {
                avx512 = (" " + line.substring(line.indexOf(':') + 1) + " ").contains(" avx512f ");
                break;
            }
        }
        return amd && avx512;
    }

    private static Outcome bypass() throws Throwable {
        Mapping lib = Mapping.of("/libtorch_cpu.so");
        if (lib == null) {
            return Outcome.REFUSED;
        }
        long[] offsets = symbols(lib.file, VENDOR_ANSWER, CPU_TYPE);
        if (offsets == null) {
            return Outcome.REFUSED;
        }
        long bias = lib.base - offsets[2]; // where the file's first segment was mapped, less its own address
        long answer = bias + offsets[0];
        long cpuType = bias + offsets[1];
        if (!lib.writable(answer) || !lib.writable(cpuType)) {
            return Outcome.REFUSED;
        }
        Memory memory = Memory.get();
        int answered = memory.getInt(answer);
        int detected = memory.getInt(cpuType);
        if (answered != -1 || detected != -1) {
            // MKL has chosen already (or these are not the flags we think): changing the answer now could mix paths
            return answered >= 0 && detected >= 0 ? Outcome.TOO_LATE : Outcome.REFUSED;
        }
        memory.putInt(answer, 1);
        return Outcome.AVX512;
    }

    /**
     * The addresses of 4-byte objects named in an ELF64 shared object's symbol table, each inside a
     * writable loaded segment, followed by the (page-aligned) address of the segment that starts the
     * file; null when the file is not such an object or lacks any of them.
     */
    static long[] symbols(Path so, String... names) throws IOException {
        try (FileChannel ch = FileChannel.open(so)) {
            ByteBuffer h = read(ch, 0, 64);
            if (h.getInt(0) != 0x464c457f || h.get(4) != 2 || h.get(5) != 1 || h.getShort(0x10) != 3) {
                return null; // not a little-endian 64-bit shared object
            }
            long[] writable = new long[0];
            long fileStart = -1;
            int phEntSize = h.getShort(0x36) & 0xffff;
            int phCount = h.getShort(0x38) & 0xffff;
            ByteBuffer segments = read(ch, h.getLong(0x20), phEntSize * phCount);
            for (int i = 0; i < phCount; i++) {
                int p = i * phEntSize;
                if (segments.getInt(p) != 1) {
                    continue; // PT_LOAD only
                }
                long vaddr = segments.getLong(p + 16);
                if (segments.getLong(p + 8) == 0) {
                    fileStart = vaddr & ~0xfffL;
                }
                if ((segments.getInt(p + 4) & 2) != 0) { // PF_W
                    writable = java.util.Arrays.copyOf(writable, writable.length + 2);
                    writable[writable.length - 2] = vaddr;
                    writable[writable.length - 1] = vaddr + segments.getLong(p + 40);
                }
            }
            if (fileStart < 0) {
                return null;
            }
            long shoff = h.getLong(0x28);
            int entSize = h.getShort(0x3A) & 0xffff;
            int count = h.getShort(0x3C) & 0xffff;
            ByteBuffer sections = read(ch, shoff, entSize * count);
            for (int i = 0; i < count; i++) {
                int s = i * entSize;
                if (sections.getInt(s + 4) != 2) {
                    continue; // SHT_SYMTAB only: the dynamic table does not list these local objects
                }
                int link = sections.getInt(s + 0x28);
                ByteBuffer strings = read(ch, sections.getLong(link * entSize + 0x18), Math.toIntExact(sections.getLong(link * entSize + 0x20)));
                ByteBuffer table = read(ch, sections.getLong(s + 0x18), Math.toIntExact(sections.getLong(s + 0x20)));
                int symSize = Math.toIntExact(sections.getLong(s + 0x38));
                long[] found = new long[names.length];
                int left = names.length;
                byte[][] wanted = new byte[names.length][];
                for (int n = 0; n < names.length; n++) {
                    wanted[n] = names[n].getBytes(StandardCharsets.US_ASCII);
                }
                for (int at = 0; at + symSize <= table.limit() && left > 0; at += symSize) {
                    int name = table.getInt(at);
                    for (int n = 0; n < names.length; n++) {
                        if (found[n] == 0 && named(strings, name, wanted[n])) {
                            if (table.getLong(at + 16) != 4 || (table.getShort(at + 6) & 0xffff) == 0) {
                                return null; // not a defined 4-byte object
                            }
                            found[n] = table.getLong(at + 8);
                            if (!inside(writable, found[n])) {
                                return null; // not in memory the library may write: not the variable we mean
                            }
                            left--;
                        }
                    }
                }
                if (left > 0) {
                    return null;
                }
                long[] out = java.util.Arrays.copyOf(found, names.length + 1);
                out[names.length] = fileStart;
                return out;
            }
            return null;
        }
    }

    private static boolean inside(long[] ranges, long address) {
        for (int i = 0; i < ranges.length; i += 2) {
            if (address >= ranges[i] && address + 4 <= ranges[i + 1]) {
                return true;
            }
        }
        return false;
    }

    private static boolean named(ByteBuffer strings, int at, byte[] name) {
        if (at < 0 || at + name.length >= strings.limit() || strings.get(at + name.length) != 0) {
            return false;
        }
        for (int j = 0; j < name.length; j++) {
            if (strings.get(at + j) != name[j]) {
                return false;
            }
        }
        return true;
    }

    private static ByteBuffer read(FileChannel ch, long at, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) {
            if (ch.read(b, at + b.position()) < 0) {
                throw new IOException("truncated ELF file");
            }
        }
        return b.flip();
    }

    /** A shared object as this process mapped it: its file, its load address, and the process's map read once. */
    private record Mapping(Path file, long base, List<String> maps) {
        static Mapping of(String suffix) throws IOException {
            List<String> maps = Files.readAllLines(Path.of("/proc/self/maps"));
            for (String line : maps) {
                String[] f = line.trim().split("\\s+");
                if (f.length >= 6 && f[5].endsWith(suffix) && Long.parseLong(f[2], 16) == 0) {
                    return new Mapping(Path.of(f[5]), Long.parseUnsignedLong(f[0].substring(0, f[0].indexOf('-')), 16), maps);
                }
            }
            return null;
        }

        /** Whether the 4 bytes at {@code address} lie in memory mapped writable now (RELRO pages no longer are). */
        boolean writable(long address) {
            for (String line : maps) {
                String[] f = line.trim().split("\\s+");
                int dash = f[0].indexOf('-');
                long start = Long.parseUnsignedLong(f[0].substring(0, dash), 16);
                long end = Long.parseUnsignedLong(f[0].substring(dash + 1), 16);
                if (Long.compareUnsigned(address, start) >= 0 && Long.compareUnsigned(address + 4, end) <= 0) {
                    return f[1].startsWith("rw");
                }
            }
            return false;
        }
    }

    /** Raw int reads and writes through {@code sun.misc.Unsafe}, looked up reflectively. */
    private record Memory(Object unsafe, MethodHandle getInt, MethodHandle putInt) {
        static Memory get() throws ReflectiveOperationException {
            Class<?> type = Class.forName("sun.misc.Unsafe");
            Field f = type.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            return new Memory(f.get(null), lookup.findVirtual(type, "getInt", MethodType.methodType(int.class, long.class)),
                    lookup.findVirtual(type, "putInt", MethodType.methodType(void.class, long.class, int.class)));
        }

        int getInt(long address) throws Throwable {
            return (int) getInt.invoke(unsafe, address);
        }

        void putInt(long address, int value) throws Throwable {
            putInt.invoke(unsafe, address, value);
        }
    }
}
