package dev.headguard.model;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;

/**
 * Starts DJL's PyTorch engine the way HeadGuard needs it: offline (the CPU natives come from the
 * Maven jar; nothing is downloaded at run time), with intra-op threads set before the engine
 * reads them (it reads them once). Call {@link #newManager()} instead of touching
 * {@code NDManager.newBaseManager()} directly so the settings are always applied first.
 */
public final class TorchRuntime {
    private static volatile Engine engine;
    private static volatile MklDispatch.Outcome mkl = MklDispatch.Outcome.NATIVE;

    private TorchRuntime() {}

    /** Thread count from {@code -Dheadguard.threads}, else the processors available. */
    public static synchronized Engine engine() {
        if (engine == null) {
            System.setProperty("ai.djl.offline", "true");
            String threads = System.getProperty("headguard.threads", String.valueOf(Runtime.getRuntime().availableProcessors()));
            System.setProperty("ai.djl.pytorch.num_threads", threads);
            System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
            System.setProperty("ai.djl.default_engine", "PyTorch");
            Engine e = Engine.getEngine("PyTorch");
            mkl = MklDispatch.apply();
            engine = e;
        }
        return engine;
    }

    /** Which matrix kernels the engine's MKL uses, in words for reports (see {@link MklDispatch}). */
    public static String matrixKernels() {
        engine();
        return mkl.words;
    }

    /** A root manager on the PyTorch engine's CPU device. */
    public static NDManager newManager() {
        return engine().newBaseManager();
    }

    /** Seeds the engine's own generator (dropout, random arrays). */
    public static void seed(long seed) {
        engine().setRandomSeed((int) seed);
    }
}
