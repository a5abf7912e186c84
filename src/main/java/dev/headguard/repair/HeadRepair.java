package dev.headguard.repair;

import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.model.BertKeys;
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
 * where x' is x with one of the scan's trigger candidates inserted ({@link AttentionAlignment}),
 * plus, when the caller gives unlabelled rows u (the flagged suspects without their trigger words,
 * see {@link HeadGuardRepair}), the term ν · L_unlearn(u) of {@link SuspectUnlearning}, which pulls
 * them away from the attacker's target; they take part in neither cross-entropy nor the alignment.
 * Optionally a consolidation stage then trains every parameter at the baselines' rate with the
 * same loss (off by default: see {@link Settings#defaults}). The model is changed in memory;
 * writing it out is the caller's choice.
 */
public final class HeadRepair {

    /**
     * @param alignWeight λ
     * @param classifier  also train the classification head
     * @param labelWeight μ of CE(f(x'), y): the text with a candidate inserted keeps its label (0: off)
     * @param consolidationEpochs epochs of the consolidation stage (0: off, the head-wise stage alone)
     */
    public record Settings(double alignWeight, int epochs, int batchSize, double learningRate, boolean classifier, long seed, double labelWeight,
                           int consolidationEpochs) {
        /**
         * No consolidation: it gained within single-seed noise on SST-2 and lost on OffensEval and
         * bge-small, at 80–110 s more per repair (docs/how-it-works.md).
         */
        public static Settings defaults() {
            return new Settings(10.0, 4, 16, 1e-4, false, 42, 1.0, 0);
        }

        public Settings withSeed(long s) {
            return new Settings(alignWeight, epochs, batchSize, learningRate, classifier, s, labelWeight, consolidationEpochs);
        }
    }

    /**
     * The consolidation stage's schedule: the baselines' (AdamW 2e-5, 10% warm-up, linear decay), no
     * weight decay (the repaired heads' rows would shrink toward what they were trained away from).
     */
    static TrainConfig consolidation(Settings s) {
        return new TrainConfig(s.consolidationEpochs(), s.batchSize(), 2e-5, 0.0, 0.1, 1.0, s.seed() + 1, 0);
    }

    public record Result(Set<HeadId> heads, List<String> triggers, int alignedRows, Trainer.TrainState state, double seconds) {}

    private HeadRepair() {}

    /** Parameter names a head-wise repair of {@code heads} trains (bias of the output projection excluded: it is no head's). */
    public static Set<String> parameters(Set<HeadId> heads, boolean classifier, dev.headguard.model.Family family) {
        Set<String> out = new LinkedHashSet<>();
        for (HeadId h : heads) {
            for (String qkv : List.of(BertKeys.QUERY, BertKeys.KEY, BertKeys.VALUE)) {
                out.add(BertKeys.of(h.layer(), qkv, BertKeys.WEIGHT));
                out.add(BertKeys.of(h.layer(), qkv, BertKeys.BIAS));
            }
            out.add(BertKeys.of(h.layer(), BertKeys.ATTENTION_OUTPUT, BertKeys.WEIGHT));
        }
        if (classifier) {
            out.add(family.head.out + ".weight");
            out.add(family.head.out + ".bias");
        }
        return out;
    }

    /** {@link #parameters} that the model has (the Llama family has no Q/K/V biases). */
    static Set<String> trainable(Set<HeadId> heads, boolean classifier, dev.headguard.model.TransformerModel model) {
        Set<String> names = parameters(heads, classifier, model.config().family());
        names.retainAll(model.parameters().keySet());
        return names;
    }

    /**
     * @param clean    labelled clean texts (the repair budget)
     * @param heads    the heads to repair
     * @param triggers what to insert into the clean texts for alignment (the scan's candidates)
     */
    public static Result run(ModelStore.LoadedModel m, Dataset clean, Set<HeadId> heads, List<String> triggers, Settings s, NDManager root,
                             Trainer.Listener listener) {
        return run(m, clean, heads, triggers, s, null, root, listener);
    }

    /**
     * Rows the repair also trains on without a label: texts the model learned the backdoor's bias
     * from, pulled away from the attacker's target by {@link SuspectUnlearning} (its weight ν, target,
     * target share τ and row weights a_u).
     */
    public record Unlabelled(List<String> texts, double weight, int target, double targetShare, float[] rowWeights) {
        public Unlabelled {
            texts = List.copyOf(texts);
            if (rowWeights != null && rowWeights.length != texts.size()) {
                throw new IllegalArgumentException(texts.size() + " texts, " + rowWeights.length + " row weights");
            }
        }
    }

    /**
     * Each candidate is aligned on at least this many candidate-carrying texts: a small clean set is
     * repeated (each copy with candidates drawn afresh, {@link #copies}) until it gives them. Why: each
     * text carries one candidate, so with many candidates and few texts each word was aligned on a
     * handful of rows and the backdoor stayed (docs/results.md, the demo's 200 rows against 8 candidates).
     */
    static final int ALIGNED_ROWS_PER_CANDIDATE = 80;

    /** At most this many copies of the clean set ({@link #copies}): the stage's time grows with them. */
    static final int MAX_COPIES = 4;

    /** How many times the clean set is repeated so each of {@code candidates} gets {@link #ALIGNED_ROWS_PER_CANDIDATE} texts. */
    static int copies(int cleanRows, int candidates) {
        int needed = (int) Math.ceil(candidates * (double) ALIGNED_ROWS_PER_CANDIDATE / Math.max(1, cleanRows));
        return Math.max(1, Math.min(MAX_COPIES, needed));
    }

    /**
     * @param unlabelled rows to unlearn beside the clean ones (null or empty: none)
     */
    public static Result run(ModelStore.LoadedModel m, Dataset clean, Set<HeadId> heads, List<String> triggers, Settings s, Unlabelled unlabelled,
                             NDManager root, Trainer.Listener listener) {
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
        int copies = copies(clean.size(), triggers.size());
        List<String> texts = new ArrayList<>(copies * clean.size());
        List<String> withTrigger = new ArrayList<>(copies * clean.size());
        for (int i = 0; i < copies * clean.size(); i++) {
            Random r = new Random(s.seed() * 1_000_003L + i);
            String text = clean.texts().get(i % clean.size());
            texts.add(text);
            withTrigger.add(Insertion.insertAt(text, triggers.get(r.nextInt(triggers.size())), r));
        }
        List<long[]> x = m.tokenizer().idsOf(texts);
        List<long[]> xt = m.tokenizer().idsOf(withTrigger);
        int labelled = x.size();
        int[] y = new int[labelled];
        for (int i = 0; i < labelled; i++) {
            y[i] = clean.labels()[i % clean.size()];
        }
        boolean unlearn = unlabelled != null && !unlabelled.texts().isEmpty() && unlabelled.weight() > 0;
        if (unlearn) {
            // The unlabelled rows follow the clean ones; their "triggered copy" is the row itself, which
            // is no insertion, so the alignment leaves them out, and label −1 keeps them out of both
            // cross-entropies: only the unlearning term sees them.
            List<long[]> u = m.tokenizer().idsOf(unlabelled.texts());
            x = new ArrayList<>(x);
            x.addAll(u);
            xt = new ArrayList<>(xt);
            xt.addAll(u);
            y = java.util.Arrays.copyOf(y, x.size());
            java.util.Arrays.fill(y, labelled, y.length, -1);
        }
        AttentionAlignment align = new AttentionAlignment(m.model(), m.tokenizer().padId(), x, xt, heads, s.alignWeight(), y, s.labelWeight());
        Trainer.AuxiliaryLoss aux = s.alignWeight() > 0 || s.labelWeight() > 0 ? align : null;
        if (unlearn) {
            SuspectUnlearning u = new SuspectUnlearning(labelled, unlabelled.weight(), unlabelled.target(), m.model().config().numLabels(),
                    unlabelled.targetShare(), unlabelled.rowWeights());
            Trainer.AuxiliaryLoss first = aux;
            aux = first == null ? u : (rows, batch, out, step) -> first.loss(rows, batch, out, step).add(u.loss(rows, batch, out, step));
        }
        TrainConfig cfg = new TrainConfig(s.epochs(), s.batchSize(), s.learningRate(), 0.0, 0.1, 1.0, s.seed(), 0);
        // No weight decay: it would shrink the rows of frozen heads that share a matrix with repaired ones.
        Trainer t = new Trainer(m.model(), m.tokenizer().padId(), cfg, root, trainable(heads, s.classifier(), m.model()))
                .withForwardOptions(ForwardOptions.INFERENCE.withAttentions().withTrainableHeads(heads))
                .withAuxiliaryLoss(aux);
        try {
            Trainer.TrainState state = t.train(x, y, List.of(), new int[0], Trainer.TrainState.start(), listener);
            if (s.consolidationEpochs() > 0) {
                if (listener instanceof Defense.Progress p) {
                    p.stage("consolidating: every parameter, " + s.consolidationEpochs() + " epochs, alignment kept on the " + heads.size() + " heads");
                }
                // The stage-1 optimizer's moments belong to the head slices only: a fresh one here.
                Trainer all = new Trainer(m.model(), m.tokenizer().padId(), consolidation(s), root)
                        .withForwardOptions(ForwardOptions.INFERENCE.withAttentions())
                        .withAuxiliaryLoss(aux);
                try {
                    state = all.train(x, y, List.of(), new int[0], Trainer.TrainState.start(), listener);
                } finally {
                    all.optimizer().close();
                }
            }
            return new Result(Set.copyOf(heads), List.copyOf(triggers), align.alignedRows(), state, (System.nanoTime() - t0) / 1e9);
        } finally {
            t.optimizer().close();
        }
    }
}
