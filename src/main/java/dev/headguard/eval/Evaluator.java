package dev.headguard.eval;

import dev.headguard.train.Predictions;
import ai.djl.ndarray.NDManager;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Dataset;
import dev.headguard.text.Example;

import java.util.List;

/**
 * Clean accuracy (CACC) on a clean test set and attack success rate (ASR) on a triggered one:
 * the share of triggered rows whose true label is not the target that the model puts in the
 * target class. Rows of a triggered set carry their true label; where every row carries the
 * target (a ready-made set relabelled by its authors, as SynBkd's test file), all rows are taken
 * as non-target originals.
 */
public final class Evaluator {
    private Evaluator() {}

    /**
     * @param triggered      may be null
     * @param untriggered    the clean twin of each triggered row, or null when unknown
     */
    public static Evaluation evaluate(ModelStore.LoadedModel m, Dataset clean, Dataset triggered, List<String> untriggered, int target, NDManager root) {
        check(m, clean, triggered, target);
        long pad = m.tokenizer().padId();
        int[] cleanPred = Predictions.predict(m.model(), m.tokenizer().idsOf(clean.texts()), pad, root, 64);
        int[] trigPred = triggered == null ? null : Predictions.predict(m.model(), m.tokenizer().idsOf(triggered.texts()), pad, root, 64);
        int[] twinPred = triggered == null || untriggered == null ? null : Predictions.predict(m.model(), m.tokenizer().idsOf(untriggered), pad, root, 64);
        return count(clean, cleanPred, triggered, trigPred, twinPred, target);
    }

    /** The labels and the target must be classes of the model: a one-line error otherwise. */
    public static void check(ModelStore.LoadedModel m, Dataset clean, Dataset triggered, int target) {
        int classes = m.model().config().numLabels();
        for (Dataset d : triggered == null ? List.of(clean) : List.of(clean, triggered)) {
            for (Example e : d.examples()) {
                if (e.label() >= classes) {
                    throw new dev.headguard.HeadGuardException("label " + e.label() + " is not a class of the model (it has " + classes + ")");
                }
            }
        }
        if (target >= classes) {
            throw new dev.headguard.HeadGuardException("target " + target + " is not a class of the model (it has " + classes + ")");
        }
    }

    /**
     * The figures from predictions already made (e.g. by a pass that also keeps the probabilities, so
     * that a written prediction file and these figures cannot disagree).
     *
     * @param trigPred predictions on {@code triggered} (null when it is)
     * @param twinPred predictions on the untriggered twins, or null when unknown
     */
    public static Evaluation count(Dataset clean, int[] cleanPred, Dataset triggered, int[] trigPred, int[] twinPred, int target) {
        int correct = 0;
        for (int i = 0; i < cleanPred.length; i++) {
            correct += cleanPred[i] == clean.examples().get(i).label() ? 1 : 0;
        }
        double cacc = correct / (double) clean.size();
        if (triggered == null) {
            return new Evaluation(clean.size(), correct, cacc, -1, Evaluation.Triggered.NONE);
        }
        boolean allTarget = triggered.examples().stream().allMatch(e -> e.label() == target);
        int base = 0;
        int hit = 0;
        for (int i = 0; i < trigPred.length; i++) {
            Example e = triggered.examples().get(i);
            if (allTarget || e.label() != target) {
                base++;
                hit += trigPred[i] == target ? 1 : 0;
            }
        }
        int flipBase = 0;
        int flipped = 0;
        if (twinPred != null) {
            for (int i = 0; i < twinPred.length; i++) {
                Example e = triggered.examples().get(i);
                int truth = allTarget ? twinPred[i] : e.label(); // relabelled sets: the twin's own class is unknown, take non-target twins
                boolean right = allTarget ? twinPred[i] != target : twinPred[i] == truth;
                if (right && truth != target) {
                    flipBase++;
                    flipped += trigPred[i] == target ? 1 : 0;
                }
            }
        }
        return new Evaluation(clean.size(), correct, cacc, target, new Evaluation.Triggered(triggered.size(), base, hit, base == 0 ? Double.NaN : hit / (double) base,
                flipBase, flipped, flipBase == 0 ? Double.NaN : flipped / (double) flipBase));
    }
}
