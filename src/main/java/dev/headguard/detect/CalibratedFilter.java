package dev.headguard.detect;

import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.detect.attention.InputScanner;
import dev.headguard.detect.attention.Probe;
import dev.headguard.detect.hidden.HiddenDirection;
import dev.headguard.detect.hidden.HiddenStateScan;
import dev.headguard.model.ModelConfig;
import dev.headguard.model.io.ModelStore;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The per-input filter of {@code scan inputs} once calibrated: the attention scan's profiles and
 * thresholds and, when the model scan's evidence chose it ({@link dev.headguard.detect.hidden.CandidateDirection.Choice}),
 * the hidden-state direction. It scores
 * each text on its own, with no clean set at hand, and travels as bytes ({@link #toBytes}): a
 * filter calibrated once on a Spark driver is shipped to every executor, which scores with its own
 * copy of the model. The scores are {@code scan inputs}' {@code scan_filter_score} (without a
 * model scan, its attention margins): flagged above 0.
 */
public final class CalibratedFilter {
    private static final String MAGIC = "headguard-filter";
    private static final int VERSION = 1;

    private final InputScanner scanner;
    private final HiddenDirection direction; // null: the attention scan scores
    private final String modelShape;

    private CalibratedFilter(InputScanner scanner, HiddenDirection direction, String modelShape) {
        this.scanner = scanner;
        this.direction = direction;
        this.modelShape = modelShape;
    }

    /** The filter an audit of the clean set chose: the scan direction's choice when there was evidence, else the attention scan. */
    public static CalibratedFilter of(ModelStore.LoadedModel model, InputAudit.Result calibrated) {
        InputAudit.ScanDirection sd = calibrated.scanDirection();
        boolean alongDirection = sd != null && sd.choice().direction();
        return new CalibratedFilter(calibrated.scanner(), alongDirection ? sd.strongest().learned().direction() : null, shape(model.model().config()));
    }

    /** "attention" or "direction": which detector scores. */
    public String kind() {
        return direction == null ? "attention" : "direction";
    }

    /** Scores (flagged above 0) and the model's predicted classes, in text order. */
    public record Scored(double[] scores, int[] predictions) {}

    /**
     * One pass of the filter's model over {@code texts}, in batches of the calibration's batch size,
     * each of one token length ({@link Probe#runEachAlone}): a text scores the same, to about 1e-5,
     * whatever texts it is scored with.
     */
    public Scored score(List<String> texts, NDManager root, Probe.Progress progress) {
        if (texts.isEmpty()) {
            return new Scored(new double[0], new int[0]);
        }
        if (direction == null) {
            Probe.Result pass = Probe.runEachAlone(scanner.model(), texts, scanner.features(), false, root, batchSize(), progress).result();
            return new Scored(scanner.margins(scanner.score(pass)), pass.predictions());
        }
        // The direction reads hidden states alone: no attention statistics (the maps are computed either way, the states are the same).
        Probe.WithStates pass = Probe.runEachAlone(scanner.model(), texts, null, true, root, batchSize(), progress);
        return new Scored(direction.margins(HiddenStateScan.States.of(pass)), pass.result().predictions());
    }

    /** Texts per model pass (the calibration's batch size). */
    public int batchSize() {
        return scanner.settings().batchSize();
    }

    /** The scanner behind the attention scores (its thresholds, its settings). */
    public InputScanner scanner() {
        return scanner;
    }

    /** The filter as bytes, for {@link #fromBytes} on another JVM with the same model. */
    public byte[] toBytes() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(b)) {
            out.writeUTF(MAGIC);
            out.writeInt(VERSION);
            out.writeUTF(modelShape);
            scanner.write(out);
            out.writeBoolean(direction != null);
            if (direction != null) {
                direction.write(out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toByteArray();
    }

    /**
     * A filter {@link #toBytes} wrote, scoring with {@code model}, which must have the shape it was
     * calibrated on (family, layers, heads, width, classes; the weights are not compared).
     */
    public static CalibratedFilter fromBytes(byte[] bytes, ModelStore.LoadedModel model, NDManager root) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
            if (!MAGIC.equals(in.readUTF()) || in.readInt() != VERSION) {
                throw new HeadGuardException("not a HeadGuard filter of version " + VERSION);
            }
            String shape = in.readUTF();
            String own = shape(model.model().config());
            if (!shape.equals(own)) {
                throw new HeadGuardException(model.directory() + ": the filter was calibrated on a model of shape " + shape + ", this one is " + own);
            }
            InputScanner scanner = InputScanner.read(in, model, root);
            HiddenDirection direction = in.readBoolean() ? HiddenDirection.read(in) : null;
            if (in.read() != -1) {
                throw new HeadGuardException("a HeadGuard filter with trailing bytes");
            }
            return new CalibratedFilter(scanner, direction, shape);
        } catch (IOException | IllegalArgumentException e) {
            throw new HeadGuardException("a damaged HeadGuard filter (" + e.getMessage() + ")");
        }
    }

    private static String shape(ModelConfig c) {
        return c.family() + " layers=" + c.numHiddenLayers() + " heads=" + c.numAttentionHeads() + " hidden=" + c.hiddenSize() + " labels=" + c.numLabels()
                + " vocab=" + c.vocabSize();
    }
}
