package dev.headguard.repair;

import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.HeadId;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Dataset;
import dev.headguard.text.Insertion;
import dev.headguard.train.TrainConfig;
import dev.headguard.train.Trainer;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Head-wise fine-tuning with attention safety alignment. Only the chosen heads' parameters move
 * (their Q/K/V rows and output-projection columns, through the encoder's straight-through head
 * masks; optionally the classifier), on a small clean set, with
 * <pre>
 *   L = CE(f(x), y) + λ · L_align(x, x') + μ · CE(f(x'), y)
 * </pre>
 * where x' is x with one of the scan's trigger candidates inserted ({@link AttentionAlignment}).
 * The model is changed in memory; writing it out is the caller's choice.
 */
public final class HeadRepair {

    /**
     * @param alignWeight λ
     * @param classifier  also train the classification head
     * @param labelWeight μ of CE(f(x'), y): the text with a candidate inserted keeps its label (0: off)
     */
    public record Settings(double alignWeight, int epochs, int batchSize, double learningRate, boolean classifier, long seed, double labelWeight) {
        public static Settings defaults() {
            return new Settings(10.0, 4, 16, 1e-4, false, 42, 1.0);
        }

        public Settings withSeed(long s) {
            return new Settings(alignWeight, epochs, batchSize, learningRate, classifier, s, labelWeight);
        }
    }

    public record Result(Set<HeadId> heads, List<String> triggers, int alignedRows, Trainer.TrainState state, double seconds) {}

    private HeadRepair() {}

    /** Parameter names a head-wise repair of {@code heads} trains (bias of the output projection excluded: it is no head's). */
    public static Set<String> parameters(Set<HeadId> heads, boolean classifier) {
        Set<String> out = new LinkedHashSet<>();
        for (HeadId h : heads) {
            String p = "encoder.layer." + h.layer() + ".attention.";
            for (String qkv : List.of("query", "key", "value")) {
                out.add(p + "self." + qkv + ".weight");
                out.add(p + "self." + qkv + ".bias");
            }
            out.add(p + "output.dense.weight");
        }
        if (classifier) {
            out.add("classifier.weight");
            out.add("classifier.bias");
        }
        return out;
    }

    /**
     * @param clean    labelled clean texts (the repair budget)
     * @param heads    the heads to repair
     * @param triggers what to insert into the clean texts for alignment (the scan's candidates)
     */
    public static Result run(ModelStore.LoadedModel m, Dataset clean, Set<HeadId> heads, List<String> triggers, Settings s, NDManager root,
                             Trainer.Listener listener) {
        if (heads.isEmpty()) {
            throw new HeadGuardException("no heads to repair");
        }
        if (triggers.isEmpty()) {
            throw new HeadGuardException("nothing to align against: give trigger candidates (a scan's) or suspect inputs");
        }
        if (clean.numLabels() > m.model().config().numLabels()) {
            throw new HeadGuardException("the clean set has " + clean.numLabels() + " labels, the model " + m.model().config().numLabels());
        }
        long t0 = System.nanoTime();
        List<long[]> x = m.tokenizer().idsOf(clean.texts());
        List<String> withTrigger = new ArrayList<>(clean.size());
        for (int i = 0; i < clean.size(); i++) {
            Random r = new Random(s.seed() * 1_000_003L + i);
            withTrigger.add(Insertion.insertAt(clean.texts().get(i), triggers.get(r.nextInt(triggers.size())), r));
        }
        List<long[]> xt = m.tokenizer().idsOf(withTrigger);
        AttentionAlignment align = new AttentionAlignment(m.model(), m.tokenizer().padId(), x, xt, heads, s.alignWeight(), clean.labels(), s.labelWeight());
        TrainConfig cfg = new TrainConfig(s.epochs(), s.batchSize(), s.learningRate(), 0.0, 0.1, 1.0, s.seed(), 0);
        // No weight decay: it would shrink the rows of frozen heads that share a matrix with repaired ones.
        Trainer t = new Trainer(m.model(), m.tokenizer().padId(), cfg, root, parameters(heads, s.classifier()))
                .withForwardOptions(ForwardOptions.INFERENCE.withAttentions().withTrainableHeads(heads))
                .withAuxiliaryLoss(s.alignWeight() > 0 || s.labelWeight() > 0 ? align : null);
        try {
            Trainer.TrainState state = t.train(x, clean.labels(), List.of(), new int[0], Trainer.TrainState.start(), listener);
            return new Result(Set.copyOf(heads), List.copyOf(triggers), align.alignedRows(), state, (System.nanoTime() - t0) / 1e9);
        } finally {
            t.optimizer().close();
        }
    }
}
