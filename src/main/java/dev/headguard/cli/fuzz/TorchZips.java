package dev.headguard.cli.fuzz;

import dev.headguard.model.HostTensor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * pytorch_model.bin files for the harness: a float32 state dict written the way torch.save writes one
 * (a zip holding data.pkl, pickle protocol 2, and one storage per tensor), then broken or made hostile.
 */
final class TorchZips {
    private TorchZips() {}

    /** A zip entry's name and bytes. */
    record Entry(String name, byte[] bytes) {}

    static List<Entry> stateDict(Map<String, HostTensor> weights) {
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

    /** One mutation of a valid state dict's entries; the description says which. */
    static Mutations.Text mutate(List<Entry> valid, Random r) throws IOException {
        List<Entry> e = new ArrayList<>(valid);
        byte[] pkl = e.get(0).bytes().clone();
        String what;
        switch (r.nextInt(6)) {
            case 0 -> {
                int at = r.nextInt(pkl.length);
                byte v = (byte) r.nextInt(256);
                pkl[at] = v;
                what = "data.pkl byte " + at + " -> " + (v & 0xff);
            }
            case 1 -> {
                int len = r.nextInt(pkl.length);
                pkl = Arrays.copyOf(pkl, len);
                what = "data.pkl truncated to " + len;
            }
            case 2 -> {
                String[][] hostile = {{"posix", "system"}, {"builtins", "eval"}, {"subprocess", "Popen"}, {"builtins", "getattr"}, {"torch", "load"}};
                String[] g = hostile[r.nextInt(hostile.length)];
                String s = new String(pkl, StandardCharsets.ISO_8859_1).replaceFirst("ctorch\\._utils\n_rebuild_tensor_v2\n", "c" + g[0] + "\n" + g[1] + "\n");
                pkl = s.getBytes(StandardCharsets.ISO_8859_1);
                what = "a rebuild call replaced by " + g[0] + "." + g[1];
            }
            case 3 -> {
                int k = 1 + r.nextInt(e.size() - 1);
                byte[] s = e.get(k).bytes();
                e.set(k, new Entry(e.get(k).name(), Arrays.copyOf(s, r.nextInt(Math.max(1, s.length)))));
                what = "storage " + e.get(k).name() + " truncated";
            }
            case 4 -> {
                int k = 1 + r.nextInt(e.size() - 1);
                e.remove(k);
                what = "a storage removed";
            }
            default -> {
                byte[] zip = zip(e, pkl);
                int at = r.nextInt(zip.length);
                zip[at] = (byte) r.nextInt(256);
                return new Mutations.Text(zip, "zip byte " + at + " changed");
            }
        }
        return new Mutations.Text(zip(e, pkl), what);
    }

    private static byte[] zip(List<Entry> entries, byte[] pkl) throws IOException {
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

    static byte[] zip(List<Entry> entries) throws IOException {
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
