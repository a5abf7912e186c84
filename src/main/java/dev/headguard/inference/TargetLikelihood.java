package dev.headguard.inference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.ResponseEncoding;
import dev.headguard.text.TokenBatch;

import java.util.Arrays;
import java.util.List;

/**
 * How likely a decoder makes a target right after each prompt: the mean log-probability of the
 * target's tokens, teacher-forced. A backdoor's trigger, whatever it is (a word, a sentence, a style),
 * makes its target near-certain, where a clean prompt leaves it one continuation among many; so once
 * the continuation search has elicited the target, every prompt is scored on its own, with one pass.
 */
public final class TargetLikelihood {
    /** The score of a prompt too long to leave room for the target: it cannot be continued with it here, so it is never flagged. */
    public static final double NO_ROOM = -1e9;

    private static final int BATCH = 16;

    private TargetLikelihood() {}

    /** Inputs scored and flagged above a threshold (e.g. the clean prompts' (1 − FRR) quantile of the score). */
    public record Filter(String target, double threshold, double[] scores, boolean[] flagged) {
        public int flaggedCount() {
            int n = 0;
            for (boolean f : flagged) {
                n += f ? 1 : 0;
            }
            return n;
        }
    }

    /** Scores the inputs and flags those above {@code threshold}. */
    public static Filter filter(ModelStore.LoadedModel m, List<String> inputs, String target, double threshold, NDManager root) {
        double[] s = scores(m, inputs, target, root);
        boolean[] flagged = new boolean[s.length];
        for (int i = 0; i < s.length; i++) {
            flagged[i] = s[i] > threshold;
        }
        return new Filter(target, threshold, s, flagged);
    }

    /** Each prompt's mean log p(target token | prompt, the target's tokens before it). */
    public static double[] scores(ModelStore.LoadedModel m, List<String> prompts, String target, NDManager root) {
        ResponseEncoding.Encoding e = ResponseEncoding.encodeTarget(m.tokenizer(), prompts, target, m.model().config().decoder().eosTokenId());
        double[] out = new double[prompts.size()];
        Arrays.fill(out, NO_ROOM);
        for (int from = 0; from < e.rows().size(); from += BATCH) {
            List<ResponseEncoding.Encoded> part = e.rows().subList(from, Math.min(e.rows().size(), from + BATCH));
            List<long[]> ids = part.stream().map(ResponseEncoding.Encoded::ids).toList();
            TokenBatch batch = TokenBatch.of(ids, m.tokenizer().padId());
            try (NDManager b = root.newSubManager()) {
                TokenBatch.Arrays in = batch.toArrays(b);
                NDArray h = m.model().forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), ForwardOptions.INFERENCE).lastHiddenState();
                int t = (int) h.getShape().get(1);
                NDArray next = in.inputIds().get(":, 1:").toType(DataType.INT64, false).expandDims(2);                       // (B, T−1, 1)
                float[] logp = m.model().lmLogits(h.get(":, 0:" + (t - 1) + ", :")).logSoftmax(-1).gather(next, 2).squeeze(2).toFloatArray(); // (B, T−1)
                for (int i = 0; i < part.size(); i++) {
                    int start = part.get(i).responseStart();
                    double sum = 0;
                    for (int p = start; p < ids.get(i).length; p++) {
                        sum += logp[i * (t - 1) + p - 1];
                    }
                    out[e.kept().get(from + i)] = sum / (ids.get(i).length - start);
                }
            }
        }
        return out;
    }
}
