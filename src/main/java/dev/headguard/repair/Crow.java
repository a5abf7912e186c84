package dev.headguard.repair;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.Native;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.TransformerModel;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.PromptResponse;
import dev.headguard.text.ResponseEncoding;
import dev.headguard.text.TokenBatch;
import dev.headguard.train.ResponseLoss;
import dev.headguard.train.TrainConfig;
import dev.headguard.train.Trainer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Baseline: CROW (Min et al., 2024), internal consistency regularisation of a decoder. A backdoor makes
 * a hidden state jump between adjacent layers where clean inputs change it smoothly; CROW fine-tunes
 * every parameter on the clean rows with
 * <pre>
 *   L = L_resp(x ⊕ y) + α · L_cons(e + δ),   L_cons = mean over layers l, real tokens t of 1 − cos(h_l,t, h_l+1,t)
 *   δ = ε · sign(∇_δ L_cons(e + δ)) at δ = 0
 * </pre>
 * where e is the embeddings' output (token plus position embeddings here; CROW perturbs the token
 * embeddings before the positions are added) and δ, one vector per token, is found by one gradient step
 * before each training step (FGSM). ε = 0.1 and α = 5.5 are CROW's defaults.
 */
public final class Crow implements GenerationDefense {

    public record Settings(double epsilon, double alpha, TrainConfig training) {
        public static Settings defaults(long seed) {
            return new Settings(0.1, 5.5, GenerationDefense.fineTuning(seed));
        }
    }

    private final Settings settings;

    public Crow(Settings settings) {
        this.settings = settings;
    }

    @Override
    public String name() {
        return "crow";
    }

    @Override
    public Map<String, Object> apply(ModelStore.LoadedModel m, List<PromptResponse> clean, NDManager root, Defense.Progress progress) {
        TransformerModel model = m.model();
        List<ResponseEncoding.Encoded> rows = ResponseEncoding.encode(m.tokenizer(), clean, model.config().decoder().eosTokenId()).rows();
        int[] starts = rows.stream().mapToInt(ResponseEncoding.Encoded::responseStart).toArray();
        NDArray[] delta = new NDArray[1]; // this step's perturbation, in the step's manager
        ForwardOptions perturbed = ForwardOptions.INFERENCE.withHiddenStates().withTraining(true);
        progress.stage(String.format(java.util.Locale.ROOT, "CROW: every parameter, response loss + %.1f x layer consistency under an FGSM perturbation of %.2f",
                settings.alpha(), settings.epsilon()));
        Trainer t = new Trainer(model, m.tokenizer().padId(), settings.training(), root)
                .withStepPreparation((r, tb, step) -> {
                    TokenBatch.Arrays in = tb.toArrays(step);
                    NDArray d = step.zeros(new Shape(tb.batch(), tb.length(), model.config().hiddenSize()));
                    d.setRequiresGradient(true);
                    try (GradientCollector gc = TorchRuntime.engine().newGradientCollector()) {
                        List<NDArray> h = model.forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), perturbed.withHiddenShift(0, d)).hiddenStates();
                        gc.backward(consistency(h, in.attentionMask(), step));
                        delta[0] = d.getGradient().sign().mul(Native.scalar(step, settings.epsilon())).stopGradient();
                    }
                })
                .withAuxiliaryLoss((r, tb, out, step) -> {
                    NDArray lm = ResponseLoss.mean(model, tb, ResponseLoss.startsOf(starts, r), out.lastHiddenState(), step);
                    TokenBatch.Arrays in = tb.toArrays(step);
                    List<NDArray> h = model.forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), perturbed.withHiddenShift(0, delta[0])).hiddenStates();
                    return lm.add(consistency(h, in.attentionMask(), step).mul(Native.scalar(step, settings.alpha())));
                });
        try {
            t.train(rows.stream().map(ResponseEncoding.Encoded::ids).toList(), ResponseLoss.unlabelled(rows.size()), List.of(), new int[0],
                    Trainer.TrainState.start(), progress);
        } finally {
            t.optimizer().close();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("epsilon", settings.epsilon());
        out.put("alpha", settings.alpha());
        out.put("training", settings.training());
        out.put("rows", rows.size());
        return out;
    }

    /** L_cons: the mean over adjacent hidden states and real tokens of 1 − their cosine. */
    static NDArray consistency(List<NDArray> hidden, NDArray attentionMask, NDManager m) {
        NDArray mask = attentionMask.toType(DataType.FLOAT32, false);                                       // (B, T)
        NDArray total = null;
        for (int l = 0; l + 1 < hidden.size(); l++) {
            NDArray a = hidden.get(l);
            NDArray b = hidden.get(l + 1);
            NDArray dot = a.mul(b).sum(new int[] {2});                                                  // (B, T)
            NDArray norms = a.norm(new int[] {2}).mul(b.norm(new int[] {2})).add(Native.scalar(m, 1e-8));
            NDArray gap = dot.div(norms).neg().add(Native.scalar(m, 1)).mul(mask).sum();
            total = total == null ? gap : total.add(gap);
        }
        return total.div(mask.sum().mul(Native.scalar(m, hidden.size() - 1)));
    }
}
