package dev.headguard.eval;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonUnwrapped;

/**
 * The literature's two numbers, with the counts behind them.
 *
 * @param cleanTotal   clean test rows
 * @param cleanCorrect of which classified correctly
 * @param cacc         clean accuracy = cleanCorrect / cleanTotal
 * @param target       the attacker's label (-1 when no triggered set was given)
 * @param triggered    the triggered rows' counts ({@link Triggered#NONE} when none were given); flat in JSON, as a
 *                     victim's headguard.json has always had them
 */
public record Evaluation(int cleanTotal, int cleanCorrect, double cacc, int target, @JsonUnwrapped Triggered triggered) {
    /**
     * @param total         triggered rows given
     * @param asrBase       triggered rows whose true label is not the target (the ASR's denominator)
     * @param toTarget      of which classified as the target
     * @param asr           attack success rate = toTarget / asrBase
     * @param flipBase      triggered rows whose untriggered twin is known and classified correctly
     * @param flipped       of which the triggered version is classified as the target
     * @param labelFlipRate flipped / flipBase: the trigger's effect on inputs the model gets right; NaN when no twins are known
     */
    public record Triggered(@JsonProperty("triggeredTotal") int total, int asrBase, int toTarget, double asr, int flipBase, int flipped,
                            double labelFlipRate) {
        public static final Triggered NONE = new Triggered(0, 0, 0, Double.NaN, 0, 0, Double.NaN);
    }

    public int triggeredTotal() {
        return triggered.total();
    }

    public int asrBase() {
        return triggered.asrBase();
    }

    public int toTarget() {
        return triggered.toTarget();
    }

    public double asr() {
        return triggered.asr();
    }

    public int flipBase() {
        return triggered.flipBase();
    }

    public int flipped() {
        return triggered.flipped();
    }

    public double labelFlipRate() {
        return triggered.labelFlipRate();
    }
}
