package dev.headguard.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.Native;
import dev.headguard.model.TransformerModel;
import dev.headguard.text.ResponseEncoding.Encoded;
import dev.headguard.text.TokenBatch;

import java.util.ArrayList;
import java.util.List;

/**
 * The language-model loss of a generation task, on the response only: with a prompt of P tokens
 * followed by a response of R tokens (its end-of-sequence token included),
 * L = −(1/ΣR) Σ_rows Σ_{t=P}^{P+R−1} log p(x_t | x_&lt;t), the prompt's own tokens and padding weigh
 * nothing (transformers' label −100 convention for supervised fine-tuning).
 */
public final class ResponseLoss {
    private ResponseLoss() {}

    /** {Σ −log p over the batch's response tokens, their count} as a (2) array in {@code m}, from the forward pass's last hidden state. */
    static NDArray sumAndCount(TransformerModel model, TokenBatch batch, int[] responseStarts, NDArray lastHiddenState, NDManager m) {
        int b = batch.batch();
        int t = batch.length();
        float[] mask = new float[b * (t - 1)];
        int count = 0;
        for (int i = 0; i < b; i++) {
            for (int s = 0; s < t - 1; s++) { // position s predicts token s+1
                if (s + 1 >= responseStarts[i] && s + 1 < batch.lengths()[i]) {
                    mask[i * (t - 1) + s] = 1f;
                    count++;
                }
            }
        }
        NDArray logits = model.lmLogits(lastHiddenState.get(":, 0:" + (t - 1) + ", :"));                         // (B, T−1, V)
        NDArray next = batch.toArrays(m).inputIds().get(":, 1:").toType(DataType.INT64, false).expandDims(2);    // (B, T−1, 1)
        NDArray logp = logits.logSoftmax(-1).gather(next, 2).squeeze(2);                                          // (B, T−1)
        NDArray sum = logp.mul(Native.of(m, mask, new Shape(b, t - 1))).sum().neg();
        return sum.reshape(1).concat(Native.of(m, new float[] {count}, new Shape(1)));
    }

    /** The mean loss L of a training batch (zero when no row has a response token in it). */
    public static NDArray mean(TransformerModel model, TokenBatch batch, int[] responseStarts, NDArray lastHiddenState, NDManager m) {
        NDArray sc = sumAndCount(model, batch, responseStarts, lastHiddenState, m);
        return sc.get(0).div(sc.get(1).maximum(1f));
    }

    /**
     * The loss L as a trainer's term: the training list is {@code rows}' ids (labelled −1, so L is the
     * whole loss unless other terms are added).
     */
    public static Trainer.AuxiliaryLoss asTrainingLoss(TransformerModel model, List<Encoded> rows) {
        int[] starts = rows.stream().mapToInt(Encoded::responseStart).toArray();
        return (batchRows, batch, out, step) -> mean(model, batch, startsOf(starts, batchRows), out.lastHiddenState(), step);
    }

    /** {@code starts[rows[i]]} for each i: a batch's response starts, from the whole list's. */
    public static int[] startsOf(int[] starts, int[] rows) {
        int[] out = new int[rows.length];
        for (int i = 0; i < rows.length; i++) {
            out[i] = starts[rows[i]];
        }
        return out;
    }

    /** Labels of a training list that only the response loss trains on: all −1. */
    public static int[] unlabelled(int n) {
        int[] y = new int[n];
        java.util.Arrays.fill(y, -1);
        return y;
    }

    /** exp of the mean response-token loss over {@code rows}, with the model as it is (no dropout); NaN for no rows. */
    public static double perplexity(TransformerModel model, List<Encoded> rows, long padId, NDManager root) {
        double sum = 0;
        double count = 0;
        for (int i = 0; i < rows.size(); i += 16) {
            List<Encoded> part = rows.subList(i, Math.min(rows.size(), i + 16));
            TokenBatch batch = TokenBatch.of(part.stream().map(Encoded::ids).toList(), padId);
            int[] starts = part.stream().mapToInt(Encoded::responseStart).toArray();
            try (NDManager m = root.newSubManager()) {
                TokenBatch.Arrays in = batch.toArrays(m);
                NDArray h = model.forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), ForwardOptions.INFERENCE).lastHiddenState();
                float[] sc = sumAndCount(model, batch, starts, h, m).toFloatArray();
                sum += sc[0];
                count += sc[1];
            }
        }
        return count == 0 ? Double.NaN : Math.exp(sum / count);
    }
}
