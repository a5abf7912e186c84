package dev.headguard.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.headguard.HeadGuardException;
import dev.headguard.model.ModelOutput;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.io.BuiltinModel;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.TokenBatch;
import dev.headguard.train.Trainer;

import java.io.IOException;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/** The engine's own benchmarks: forward throughput against ONNX Runtime, flat memory over many batches, the matmul peak. */
public final class EngineBenchmark {
    private EngineBenchmark() {}

    /** Sentences per second: HeadGuard with every attention map returned, without maps, and ONNX Runtime on the same batches. */
    public record Encoder(double withMaps, double plain, double onnxRuntime, String onnxRuntimeVersion) {}

    /** RSS after the warm-up batches, at the end, and the peak, in bytes. */
    public record Memory(int warmup, long baseline, long end, long peak) {}

    /** Batches in file order, each padded to its longest sentence. */
    public static List<TokenBatch> batches(ModelStore.LoadedModel m, List<String> sentences, int batchSize) {
        List<TokenBatch> out = new ArrayList<>();
        for (int i = 0; i < sentences.size(); i += batchSize) {
            out.add(m.tokenizer().encode(sentences.subList(i, Math.min(sentences.size(), i + batchSize))));
        }
        return out;
    }

    /** One untimed warm-up pass per engine, then the best of {@code repeats} timed passes each; {@code onnx} null: HeadGuard alone. */
    public static Encoder encoder(ModelStore.LoadedModel m, NDManager root, List<TokenBatch> batches, byte[] onnx, int threads, int repeats)
            throws OrtException {
        int sentences = batches.stream().mapToInt(TokenBatch::batch).sum();
        double withMaps = best(() -> runDjl(m, root, batches, ForwardOptions.INFERENCE.withAttentions()), sentences, repeats);
        double plain = best(() -> runDjl(m, root, batches, ForwardOptions.INFERENCE), sentences, repeats);
        if (onnx == null) {
            return new Encoder(withMaps, plain, Double.NaN, null);
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setIntraOpNumThreads(threads);
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession ort = env.createSession(onnx, so)) {
                return new Encoder(withMaps, plain, best(() -> runOrt(env, ort, batches), sentences, repeats), env.getVersion());
            }
        }
    }

    /**
     * Runs {@code count} forward batches (attention maps returned), cycling through {@code batches}; the first
     * tenth warms the allocator up before the baseline is taken. {@code every} hears the batch number and RSS ten times.
     */
    public static Memory memory(ModelStore.LoadedModel m, NDManager root, List<TokenBatch> batches, int count, Consumer<long[]> every) {
        ForwardOptions options = ForwardOptions.INFERENCE.withAttentions();
        int warmup = Math.max(1, count / 10);
        long baseline = 0;
        long peak = 0;
        for (int i = 0; i < count; i++) {
            TokenBatch b = batches.get(i % batches.size());
            try (NDManager mm = root.newSubManager()) {
                TokenBatch.Arrays in = b.toArrays(mm);
                m.model().forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), options);
            }
            long rss = Rss.current();
            if (i + 1 == warmup) {
                baseline = rss;
            }
            peak = Math.max(peak, rss);
            if ((i + 1) % Math.max(1, count / 10) == 0) {
                every.accept(new long[] {i + 1, rss});
            }
        }
        return new Memory(warmup, baseline, Rss.current(), peak);
    }

    /** GFLOP/s of a 2048x2048 float32 matrix product through DJL, best of 5 after a warm-up. */
    public static double matmulPeak(NDManager root) {
        int n = 2048;
        try (NDManager m = root.newSubManager()) {
            NDArray a = m.randomUniform(-1, 1, new Shape(n, n));
            NDArray b = m.randomUniform(-1, 1, new Shape(n, n));
            a.matMul(b).close();
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 5; i++) {
                long t0 = System.nanoTime();
                NDArray c = a.matMul(b);
                c.getFloat(0, 0);
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                c.close();
            }
            return 2.0 * n * n * n / best / 1e9;
        }
    }

    /** The CPU's model name from /proc/cpuinfo, for reports. */
    public static String cpuName() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse("unknown CPU");
        } catch (IOException e) {
            return "unknown CPU";
        }
    }

    /** The CPU and the matrix kernels PyTorch's MKL runs on it, for reports: figures depend on both. */
    public static String machine() {
        return cpuName() + ", " + dev.headguard.model.TorchRuntime.matrixKernels();
    }

    /** The engine's thread count ({@code -Dheadguard.threads}, else the processors available). */
    public static int threads() {
        return Integer.parseInt(System.getProperty("headguard.threads", String.valueOf(Runtime.getRuntime().availableProcessors())));
    }

    private interface Pass {
        void run() throws Exception;
    }

    private static double best(Pass pass, int sentences, int repeats) throws OrtException {
        try {
            pass.run();
            double bestSeconds = Double.MAX_VALUE;
            for (int r = 0; r < Math.max(1, repeats); r++) {
                long t0 = System.nanoTime();
                pass.run();
                bestSeconds = Math.min(bestSeconds, (System.nanoTime() - t0) / 1e9);
            }
            return sentences / bestSeconds;
        } catch (OrtException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void runDjl(ModelStore.LoadedModel m, NDManager root, List<TokenBatch> batches, ForwardOptions options) {
        for (TokenBatch b : batches) {
            try (NDManager mm = root.newSubManager()) {
                TokenBatch.Arrays in = b.toArrays(mm);
                ModelOutput out = m.model().forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), options);
                out.lastHiddenState().getFloat(0, 0, 0); // the result exists (eager engine; read one value anyway)
            }
        }
    }

    private static void runOrt(OrtEnvironment env, OrtSession ort, List<TokenBatch> batches) throws OrtException {
        for (TokenBatch b : batches) {
            long[] shape = {b.batch(), b.length()};
            try (OnnxTensor ids = OnnxTensor.createTensor(env, LongBuffer.wrap(b.ids()), shape);
                 OnnxTensor mask = OnnxTensor.createTensor(env, LongBuffer.wrap(b.mask()), shape);
                 OnnxTensor types = OnnxTensor.createTensor(env, LongBuffer.wrap(b.types()), shape);
                 OrtSession.Result r = ort.run(Map.of("input_ids", ids, "attention_mask", mask, "token_type_ids", types))) {
                r.get(0);
            }
        }
    }

    /**
     * The export {@code bench encoder} compares with: the given ONNX file, else a built-in model's own.
     *
     * @param model the {@code --model} value, a built-in's name or a directory
     */
    public static byte[] onnxBytes(Path onnx, String model) throws IOException {
        if (onnx != null) {
            if (!Files.isRegularFile(onnx)) {
                throw new HeadGuardException(onnx + ": file not found");
            }
            return Files.readAllBytes(onnx);
        }
        BuiltinModel b = BuiltinModel.byName(model);
        if (b == null) {
            throw new HeadGuardException("--onnx FILE is needed to compare a model directory with ONNX Runtime");
        }
        return b.onnxBytes();
    }

    /**
     * One epoch of {@code bench train}: throughput, its share of the matmul peak, dev accuracy and the
     * memory. The JVM touches its heap lazily and those pages count in the RSS too, so RSS minus the
     * JVM's committed memory is the native footprint only when the heap is resident from the start
     * ({@code -Xms = -Xmx} with {@code -XX:+AlwaysPreTouch}).
     */
    public static String epochLine(Trainer.Epoch e, int sentences, double matmulPeak, long peakRss) {
        long rss = Rss.current();
        long jvm = Rss.jvmCommitted();
        return String.format(Locale.ROOT, "epoch %d: %d sentences in %.1f s = %.1f sentences/s, %.1f GFLOP/s = %.0f%% of the matmul peak; dev accuracy %.4f; RSS %.0f MiB (peak so far %.0f MiB; JVM heap and non-heap committed %.0f MiB, the rest %.0f MiB)%n",
                e.epoch(), sentences, e.seconds(), e.sentencesPerSecond(), e.gflopPerSecond(), 100 * e.gflopPerSecond() / matmulPeak,
                e.devAccuracy(), rss / 1048576.0, peakRss / 1048576.0, jvm / 1048576.0, (rss - jvm) / 1048576.0);
    }
}
