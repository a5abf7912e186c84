package dev.headguard.repair;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.HeadId;
import dev.headguard.model.ModelOutput;
import dev.headguard.model.Native;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Insertion;
import dev.headguard.text.PromptResponse;
import dev.headguard.text.ResponseEncoding;
import dev.headguard.text.TokenBatch;
import dev.headguard.train.ResponseLoss;
import dev.headguard.train.TrainConfig;
import dev.headguard.train.Trainer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * HeadGuard's head-wise repair of a decoder: the heads that attend most to the trigger candidates
 * are fine-tuned on a small clean prompt/response set, with
 * <pre>
 *   L = L_resp(x ⊕ y) + λ · L_align(x ⊕ y, x' ⊕ y) + μ · L_resp(x' ⊕ y) + β · L_resp(x ⊕ y | δ)
 * </pre>
 * where x' is the prompt x with one of the candidates inserted (in every other copy a word pair's
 * words each at its own place), L_resp the response-only loss
 * ({@link ResponseLoss}) and L_align {@link AttentionAlignment}: the candidate-carrying prompt must be
 * attended to as the clean one, and continued as the clean one is. Given the target the scan
 * elicited, the last term asks for the clean response with {@link TargetShift}'s δ added, a hidden
 * shift that makes clean prompts continue with the target: it reaches a backdoor whose trigger the
 * candidates miss (a sentence, a style). The model changes in memory.
 */
public final class GenerationRepair {
    /**
     * @param alignWeight     λ
     * @param triggeredWeight μ (3 by default: 1 left 8.9% of a BadNets victim's triggered prompts firing, 3 left 5.0%; docs/results.md)
     * @param epochs          3 by default: a fourth epoch cost the clean responses' perplexity in every
     *                        bench cell and removed no more of the backdoor (docs/results.md, session 29)
     * @param learningRate    7e-4 by default: with the search's output as the shift's target, 1e-3 left
     *                        the Llama cells' mean perplexity above fine-tuning's and 7e-4 below, the
     *                        AddSent sentence still under 5% (docs/results.md, session 30)
     * @param heads           heads repaired (0: {@code headShare} of the model's)
     * @param headShare       1 by default: every head's attention weights, the MLPs and embeddings left as
     *                        they are (a third left 12.8% of a composite victim's and 11.8% of a style
     *                        victim's triggered prompts firing, all heads 5.8% and 2.3%, at lower
     *                        perplexity; docs/results.md, session 10)
     */
    public record Settings(double alignWeight, double triggeredWeight, int epochs, int batchSize, double learningRate, int heads, double headShare, long seed) {
        public static Settings defaults() {
            return new Settings(10.0, 3.0, 3, 16, 7e-4, 0, 1.0, 42);
        }

        int headsFor(dev.headguard.model.ModelConfig c) {
            int all = c.numHiddenLayers() * c.numAttentionHeads();
            return heads > 0 ? Math.min(heads, all) : Math.max(1, (int) Math.round(headShare * all));
        }
    }

    /** @param shift what the target shift first reached (null when none was searched) */
    public record Result(Set<HeadId> heads, List<String> triggers, int rows, Trainer.TrainState state, TargetShift.Reached shift, double seconds) {}

    private GenerationRepair() {}

    public static Result run(ModelStore.LoadedModel m, List<PromptResponse> clean, List<String> triggers, Settings s, NDManager root, Trainer.Listener listener) {
        return run(m, clean, triggers, null, s, null, root, listener);
    }

    /**
     * The same, and with a target (the output the scan elicited) and shift settings, the clean
     * responses are also trained to hold against a {@link TargetShift} toward that target.
     */
    public static Result run(ModelStore.LoadedModel m, List<PromptResponse> clean, List<String> triggers, String target, Settings s, TargetShift.Settings shift,
                             NDManager root, Trainer.Listener listener) {
        if (triggers.isEmpty()) {
            throw new HeadGuardException("nothing to align against: the scan named no trigger candidate");
        }
        long t0 = System.nanoTime();
        int copies = HeadRepair.copies(clean.size(), triggers.size());
        List<PromptResponse> rows = new ArrayList<>();
        List<PromptResponse> withTrigger = new ArrayList<>();
        for (int i = 0; i < copies * clean.size(); i++) {
            Random r = new Random(s.seed() * 1_000_003L + i);
            PromptResponse row = clean.get(i % clean.size());
            rows.add(row);
            withTrigger.add(row.withPrompt(withCandidate(row.prompt(), triggers.get(r.nextInt(triggers.size())), i % 2 == 1, r)));
        }
        long eos = m.model().config().decoder().eosTokenId();
        ResponseEncoding.Encoding x = ResponseEncoding.encode(m.tokenizer(), rows, eos);
        ResponseEncoding.Encoding xt = ResponseEncoding.encode(m.tokenizer(), withTrigger, eos);
        // Only rows whose both versions fit, paired by their index in the copies.
        java.util.Map<Integer, ResponseEncoding.Encoded> byRow = new java.util.HashMap<>();
        for (int k = 0; k < xt.kept().size(); k++) {
            byRow.put(xt.kept().get(k), xt.rows().get(k));
        }
        List<ResponseEncoding.Encoded> a = new ArrayList<>();
        List<ResponseEncoding.Encoded> b = new ArrayList<>();
        for (int k = 0; k < x.kept().size(); k++) {
            ResponseEncoding.Encoded t = byRow.get(x.kept().get(k));
            if (t != null) {
                a.add(x.rows().get(k));
                b.add(t);
            }
        }
        if (a.isEmpty()) {
            throw new HeadGuardException("no clean row leaves room for a response once a candidate is inserted");
        }
        List<long[]> ids = a.stream().map(ResponseEncoding.Encoded::ids).toList();
        List<long[]> idsT = b.stream().map(ResponseEncoding.Encoded::ids).toList();
        int[] startsT = b.stream().mapToInt(ResponseEncoding.Encoded::responseStart).toArray();
        Set<HeadId> heads = rankHeads(m, ids, idsT, s.headsFor(m.model().config()), root);
        long pad = m.tokenizer().padId();
        AttentionAlignment align = new AttentionAlignment(m.model(), pad, ids, idsT, heads, s.alignWeight())
                .withTriggeredLoss((r, tb, out, step) -> s.triggeredWeight() == 0 ? step.zeros(new ai.djl.ndarray.types.Shape())
                        : ResponseLoss.mean(m.model(), tb, ResponseLoss.startsOf(startsT, r), out.lastHiddenState(), step).mul(Native.scalar(step, s.triggeredWeight())));
        Trainer.AuxiliaryLoss onClean = ResponseLoss.asTrainingLoss(m.model(), a);
        Trainer.AuxiliaryLoss aux = onClean.plus(align);
        TargetShift shifted = target == null || target.isBlank() || shift == null || shift.weight() <= 0 ? null
                : targetShift(m, clean, target, shift, a, heads, root);
        Trainer.AuxiliaryLoss loss = shifted == null ? aux : aux.plus(shifted);
        // Searched again from where it stands after each epoch, so that δ follows the backdoor as the model moves.
        Trainer.Listener epochs = shifted == null ? listener : listener.thenAfterEachEpoch(() -> shifted.refresh(root));
        TrainConfig cfg = new TrainConfig(s.epochs(), s.batchSize(), s.learningRate(), 0.0, 0.1, 1.0, s.seed(), 0);
        Trainer t = new Trainer(m.model(), pad, cfg, root, HeadRepair.trainable(heads, false, m.model()))
                .withForwardOptions(ForwardOptions.INFERENCE.withAttentions().withTrainableHeads(heads))
                .withAuxiliaryLoss(loss);
        try {
            Trainer.TrainState state = t.train(ids, ResponseLoss.unlabelled(ids.size()), List.of(), new int[0], Trainer.TrainState.start(), epochs);
            return new Result(heads, List.copyOf(triggers), ids.size(), state, shifted == null ? null : shifted.first(), (System.nanoTime() - t0) / 1e9);
        } finally {
            t.optimizer().close();
        }
    }

    /** The shift toward the target, searched on the clean prompts with the target as their response. */
    private static TargetShift targetShift(ModelStore.LoadedModel m, List<PromptResponse> clean, String target, TargetShift.Settings shift,
                                           List<ResponseEncoding.Encoded> training, Set<HeadId> heads, NDManager root) {
        List<ResponseEncoding.Encoded> rows = ResponseEncoding.encodeTarget(m.tokenizer(), clean.stream().limit(shift.prompts()).map(PromptResponse::prompt).toList(),
                target, m.model().config().decoder().eosTokenId()).rows();
        TargetShift ts = new TargetShift(m.model(), rows, training.stream().mapToInt(ResponseEncoding.Encoded::responseStart).toArray(), shift,
                ForwardOptions.INFERENCE.withTrainableHeads(heads), m.tokenizer().padId(), root);
        ts.search(root);
        return ts;
    }

    /**
     * The prompt with a candidate inserted: as one phrase, or ({@code apart}) each of its words at its
     * own place. The search finds word pairs as phrases, but a trigger of words that must co-occur
     * fires with them apart; a copy with the words apart has no contiguous insertion, so it takes
     * part in the triggered-response term, not the alignment.
     */
    static String withCandidate(String prompt, String candidate, boolean apart, Random r) {
        String[] words = candidate.strip().split("\\s+");
        if (!apart || words.length < 2) {
            return Insertion.insertAt(prompt, candidate, r);
        }
        String out = prompt;
        for (String w : words) {
            out = Insertion.insertAt(out, w, r);
        }
        return out;
    }

    /**
     * The {@code count} heads whose queries after the insertion put the most attention on the inserted
     * tokens, on average over (at most 64 of) the candidate-carrying rows.
     */
    static Set<HeadId> rankHeads(ModelStore.LoadedModel m, List<long[]> clean, List<long[]> triggered, int count, NDManager root) {
        int layers = m.model().config().numHiddenLayers();
        int n = m.model().config().numAttentionHeads();
        if (count >= layers * n) { // every head (the default): nothing to rank, no attention passes to run
            Set<HeadId> all = new LinkedHashSet<>();
            for (int l = 0; l < layers; l++) {
                for (int h = 0; h < n; h++) {
                    all.add(new HeadId(l, h));
                }
            }
            return all;
        }
        double[] mass = new double[layers * n];
        int used = 0;
        for (int i = 0; i < Math.min(64, clean.size()); i++) {
            int[] km = AttentionAlignment.insertion(clean.get(i), triggered.get(i));
            if (km[0] < 0) {
                continue;
            }
            long[] y = triggered.get(i);
            try (NDManager step = root.newSubManager()) {
                TokenBatch.Arrays in = TokenBatch.of(List.of(y), m.tokenizer().padId()).toArrays(step);
                ModelOutput out = m.model().forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), ForwardOptions.INFERENCE.withAttentions());
                int from = km[0] + km[1];
                if (from >= y.length) {
                    continue;
                }
                for (int l = 0; l < layers; l++) {
                    // (1, N, T, T): queries from the insertion's end on, keys the inserted tokens
                    NDArray att = out.attentions().get(l).get(":, :, " + from + ":, " + km[0] + ":" + from);
                    float[] perHead = att.sum(new int[] {3}).mean(new int[] {2}).squeeze(0).toFloatArray();
                    for (int h = 0; h < n; h++) {
                        mass[l * n + h] += perHead[h];
                    }
                }
                used++;
            }
        }
        if (used == 0) {
            throw new HeadGuardException("no clean row carries a candidate the model can attend to");
        }
        Integer[] order = new Integer[mass.length];
        for (int k = 0; k < order.length; k++) {
            order[k] = k;
        }
        java.util.Arrays.sort(order, Comparator.comparingDouble(k -> -mass[k]));
        Set<HeadId> out = new LinkedHashSet<>();
        for (int k = 0; k < Math.min(count, order.length); k++) {
            out.add(new HeadId(order[k] / n, order[k] % n));
        }
        return out;
    }
}
