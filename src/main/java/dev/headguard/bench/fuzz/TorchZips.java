package dev.headguard.bench.fuzz;

import dev.headguard.model.io.TorchCheckpoint;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * pytorch_model.bin files for the harness: a state dict as {@link TorchCheckpoint#entries} writes it,
 * then broken or made hostile.
 */
final class TorchZips {
    private TorchZips() {}

    /** One mutation of a valid state dict's entries; the description says which. */
    static Mutations.Text mutate(List<TorchCheckpoint.Entry> valid, Random r) throws IOException {
        List<TorchCheckpoint.Entry> e = new ArrayList<>(valid);
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
                e.set(k, new TorchCheckpoint.Entry(e.get(k).name(), Arrays.copyOf(s, r.nextInt(Math.max(1, s.length)))));
                what = "storage " + e.get(k).name() + " truncated";
            }
            case 4 -> {
                int k = 1 + r.nextInt(e.size() - 1);
                e.remove(k);
                what = "a storage removed";
            }
            default -> {
                byte[] zip = TorchCheckpoint.zip(e, pkl);
                int at = r.nextInt(zip.length);
                zip[at] = (byte) r.nextInt(256);
                return new Mutations.Text(zip, "zip byte " + at + " changed");
            }
        }
        return new Mutations.Text(TorchCheckpoint.zip(e, pkl), what);
    }

}
