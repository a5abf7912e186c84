package dev.headguard.detect.hidden;

import dev.headguard.detect.attention.AttentionFeatures;
import dev.headguard.detect.attention.InputScanner;
import dev.headguard.detect.attention.Probe;

import ai.djl.ndarray.NDManager;
import dev.headguard.model.io.ModelStore;

import java.util.List;

/**
 * Both scans of a suspect set (a training set, logged traffic) from one pass over the clean texts
 * and one over the suspects: the input scan's flags and the words found almost only in flagged
 * inputs ({@link SuspectWords}: a token trigger, spelled out), and the hidden-state scan's
 * population ({@link HiddenStateScan}: any trigger that moved many inputs the same way). The repair
 * and the model scan both read a suspect set through this.
 */
public final class SuspectScan {

    /**
     * @param inputs the input scan's scores of the suspects (calibrated on the clean texts)
     * @param words  words and phrases found almost only in the flagged suspects, most flagged first
     * @param hidden the hidden-state scan of the suspects as a population
     */
    public record Result(InputScanner.Scores inputs, List<SuspectWords.Finding> words, HiddenStateScan.Result hidden) {}

    private SuspectScan() {}

    public static Result run(ModelStore.LoadedModel m, List<String> clean, List<String> suspects, HiddenStateScan.Settings hidden, NDManager root,
                             Probe.Progress progress) {
        InputScanner.Settings is = InputScanner.Settings.defaults();
        AttentionFeatures features = new AttentionFeatures(m.model().config(), is.families());
        Probe.WithStates cleanPass = Probe.runWithStates(m, clean, features, root, is.batchSize(), Probe.Progress.NONE);
        InputScanner scanner = InputScanner.calibrate(m, cleanPass.result(), features, is, root);
        Probe.WithStates pass = Probe.runWithStates(m, suspects, features, root, is.batchSize(), progress);
        InputScanner.Scores scores = scanner.score(pass.result());
        List<SuspectWords.Finding> found = SuspectWords.find(suspects, scores.flagged(), SuspectWords.Settings.defaults());
        HiddenStateScan.Result h = HiddenStateScan.scan(m, HiddenStateScan.States.of(cleanPass), HiddenStateScan.States.of(pass), hidden);
        return new Result(scores, found, h);
    }
}
