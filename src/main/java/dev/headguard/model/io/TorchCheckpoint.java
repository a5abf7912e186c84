package dev.headguard.model.io;

import dev.headguard.HeadGuardException;
import dev.headguard.model.HostTensor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Reads a PyTorch {@code pytorch_model.bin} (the zip format {@code torch.save} has written since 1.6)
 * without executing it. The pickle inside is interpreted by a small machine that knows only the
 * opcodes a state dict uses and builds only what {@code torch.load(weights_only=True)} allows for one:
 * ordered dicts, tensors rebuilt from storages, and the storage types. Any other global, opcode or call
 * is refused with its name before anything is built from it: nothing in the file is ever run.
 */
public final class TorchCheckpoint {
    /** Largest pickle read (a state dict's is kilobytes; the tensors live in their own entries). */
    static final long MAX_PICKLE_BYTES = 64L << 20;

    private TorchCheckpoint() {}

    /** The tensors of a state dict by name, in file order. Every problem names the file. */
    public static Map<String, HostTensor> read(Path file) {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            ZipEntry pkl = null;
            for (var e = zip.entries(); e.hasMoreElements(); ) {
                ZipEntry z = e.nextElement();
                if (z.getName().endsWith("/data.pkl") && z.getName().indexOf('/') == z.getName().length() - "/data.pkl".length()) {
                    pkl = z;
                }
            }
            if (pkl == null) {
                throw new HeadGuardException(file + ": no data.pkl inside: not a PyTorch checkpoint");
            }
            if (pkl.getSize() > MAX_PICKLE_BYTES) {
                throw new HeadGuardException(file + ": data.pkl is " + pkl.getSize() + " bytes, over the " + MAX_PICKLE_BYTES + " a state dict needs");
            }
            String prefix = pkl.getName().substring(0, pkl.getName().length() - "data.pkl".length());
            byte[] pickle;
            try (InputStream in = zip.getInputStream(pkl)) {
                pickle = in.readNBytes((int) MAX_PICKLE_BYTES + 1);
            }
            Object top = new Unpickler(file, pickle, key -> storageBytes(zip, prefix, key, file)).run();
            if (!(top instanceof Unpickler.Dict d)) {
                throw new HeadGuardException(file + ": holds a " + Unpickler.describe(top) + ", not a state dict of tensors");
            }
            Map<String, HostTensor> out = new LinkedHashMap<>();
            for (Map.Entry<Object, Object> e : d.items.entrySet()) {
                if (!(e.getKey() instanceof String name) || !(e.getValue() instanceof HostTensor t)) {
                    throw new HeadGuardException(file + ": entry " + e.getKey() + " is a " + Unpickler.describe(e.getValue()) + ", not a named tensor");
                }
                out.put(name, t);
            }
            return out;
        } catch (java.util.zip.ZipException e) {
            throw new HeadGuardException(file + ": not a readable PyTorch zip checkpoint (" + HeadGuardException.brief(e.getMessage())
                    + "); files from torch before 1.6 are not read: re-save them with a current torch");
        } catch (IOException e) {
            throw new HeadGuardException(file + ": cannot read (" + HeadGuardException.brief(e.getMessage()) + ")");
        }
    }

    private static byte[] storageBytes(ZipFile zip, String prefix, String key, Path file) {
        if (!key.matches("[0-9]{1,9}")) {
            throw new HeadGuardException(file + ": storage key '" + HeadGuardException.brief(key) + "' is not a storage number");
        }
        ZipEntry e = zip.getEntry(prefix + "data/" + key);
        if (e == null) {
            throw new HeadGuardException(file + ": storage " + key + " is named but missing from the archive");
        }
        if (e.getSize() > Integer.MAX_VALUE - 8) {
            throw new HeadGuardException(file + ": storage " + key + " is over 2 GB; HeadGuard reads smaller tensors");
        }
        try (InputStream in = zip.getInputStream(e)) {
            return in.readAllBytes();
        } catch (IOException | IllegalArgumentException ex) {
            throw new HeadGuardException(file + ": storage " + key + " cannot be read (" + HeadGuardException.brief(ex.getMessage()) + ")");
        }
    }


    /** A zip entry's name and bytes. */
    public record Entry(String name, byte[] bytes) {}

    /**
     * A float32 state dict as torch.save writes one: {@code archive/data.pkl} (pickle protocol 2) first,
     * then one storage per tensor. The reader's counterpart, for tests and the bad-input harness.
     */
    public static List<Entry> entries(Map<String, HostTensor> weights) {
        ByteArrayOutputStream p = new ByteArrayOutputStream();
        List<Entry> out = new ArrayList<>();
        p.writeBytes(new byte[] {(byte) 0x80, 2});
        p.writeBytes(global("collections", "OrderedDict"));
        p.writeBytes(new byte[] {')', 'R', '('});
        int key = 0;
        for (Map.Entry<String, HostTensor> e : weights.entrySet()) {
            float[] v = e.getValue().toFloats();
            long[] shape = e.getValue().shape();
            str(p, e.getKey());
            p.writeBytes(global("torch._utils", "_rebuild_tensor_v2"));
            p.writeBytes(new byte[] {'(', '('});
            str(p, "storage");
            p.writeBytes(global("torch", "FloatStorage"));
            str(p, String.valueOf(key));
            str(p, "cpu");
            integer(p, v.length);
            p.writeBytes(new byte[] {'t', 'Q'});
            integer(p, 0);
            p.write('(');
            for (long s : shape) {
                integer(p, s);
            }
            p.write('t');
            p.write('(');
            long stride = 1;
            long[] strides = new long[shape.length];
            for (int i = shape.length - 1; i >= 0; i--) {
                strides[i] = stride;
                stride *= shape[i];
            }
            for (long s : strides) {
                integer(p, s);
            }
            p.writeBytes(new byte[] {'t', (byte) 0x89});
            p.writeBytes(global("collections", "OrderedDict"));
            p.writeBytes(new byte[] {')', 'R', 't', 'R'});
            ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(v);
            out.add(new Entry("archive/data/" + key, b.array()));
            key++;
        }
        p.writeBytes(new byte[] {'u', '.'});
        out.add(0, new Entry("archive/data.pkl", p.toByteArray()));
        return out;
    }

    /** The entries as a zip, with {@code pkl} as data.pkl. */
    public static byte[] zip(List<Entry> entries, byte[] pkl) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(b)) {
            for (int i = 0; i < entries.size(); i++) {
                z.putNextEntry(new ZipEntry(entries.get(i).name()));
                z.write(i == 0 ? pkl : entries.get(i).bytes());
                z.closeEntry();
            }
        }
        return b.toByteArray();
    }

    public static byte[] zip(List<Entry> entries) throws IOException {
        return zip(entries, entries.get(0).bytes());
    }

    private static byte[] global(String module, String name) {
        return ("c" + module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII);
    }

    private static void str(ByteArrayOutputStream o, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        o.writeBytes(ByteBuffer.allocate(5).order(ByteOrder.LITTLE_ENDIAN).put((byte) 'X').putInt(b.length).array());
        o.writeBytes(b);
    }

    private static void integer(ByteArrayOutputStream o, long v) {
        o.writeBytes(ByteBuffer.allocate(5).order(ByteOrder.LITTLE_ENDIAN).put((byte) 'J').putInt((int) v).array());
    }
}
