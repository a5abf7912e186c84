package dev.headguard.detect;

import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.model.io.ModelStore;

import java.util.ArrayList;
import java.util.List;

/**
 * A per-input filter for implicit triggers that needs nothing but the clean set: the backdoor's
 * direction in the model's hidden space ({@link HiddenStateScan.Direction}), learned not from a
 * suspect training set but from the clean texts themselves with the model scan's strongest
 * evidence put in: its top trigger candidate at a random word position, or the word that flips
 * inputs without support ({@link UnsupportedFlips}) as their first word.
 *
 * <p>Why this reaches triggers the word never was: a syntactic template cannot be inserted, but the
 * scan finds its lexical anchor (SynBkd's "when" opening a sentence), and the anchor drives the
 * inputs through the same backdoor path the template does, so the hidden-state direction the
 * anchor-carrying clean texts move along is the one real triggered inputs move along. Measured on
 * the SST-2 MiniLM SynBkd victim (closing note of the detection issue): each test input scored on
 * its own along the direction learned from 872 dev texts with "when" in front reached AUROC 0.948
 * (triggered against clean non-target inputs), where the attention scan reached 0.638 and RAP
 * 0.939; the direction learned from the whole poisoned training set reached 0.963.
 */
public final class CandidateDirection {
    private CandidateDirection() {}

    /**
     * What a model scan found, as a text to put into clean inputs.
     *
     * @param firstWord put it in front of each text (an unsupported flip's word, as {@link UnsupportedFlips}
     *                  tried it); otherwise at a seeded random word position, as the candidate search tried it
     */
    public record Evidence(String text, boolean firstWord) {
        public Evidence {
            if (text == null || text.isBlank()) {
                throw new HeadGuardException("the model scan named no trigger candidate to learn a direction from");
            }
        }

        /** The scan's strongest evidence: the unsupported word when it outscores the top candidate, else the top candidate. */
        public static Evidence of(ModelScanner.Result r) {
            return new Evidence(r.strongest(), r.unsupportedWins());
        }

        /** Each clean text with the evidence put in. */
        public List<String> carriers(List<String> clean, long seed) {
            if (!firstWord) {
                return ModelScanner.insertAll(clean, text, seed);
            }
            List<String> out = new ArrayList<>(clean.size());
            for (String c : clean) {
                out.add(text + " " + c.strip());
            }
            return out;
        }
    }

    /** The [CLS] states of the clean texts with the evidence put in: the suspects {@link HiddenStateScan#learn} learns the direction from. */
    public static HiddenStateScan.States carrierStates(ModelStore.LoadedModel model, List<String> cleanTexts, Evidence evidence,
                                                       HiddenStateScan.Settings settings, NDManager root, Probe.Progress progress) {
        List<String> carriers = evidence.carriers(cleanTexts, settings.seed());
        return HiddenStateScan.States.of(Probe.runWithStates(model, carriers, null, root, settings.batchSize(), progress));
    }

    /**
     * Learns the direction: the carriers are the suspects, the clean texts the clean side, so that
     * the two differ only by the evidence.
     *
     * @param cleanStates the clean texts' [CLS] states, from the pass that calibrated everything else
     */
    public static HiddenStateScan.Learned learn(ModelStore.LoadedModel model, List<String> cleanTexts, HiddenStateScan.States cleanStates, Evidence evidence,
                                                HiddenStateScan.Settings settings, NDManager root, Probe.Progress progress) {
        return HiddenStateScan.learn(model, cleanStates, carrierStates(model, cleanTexts, evidence, settings, root, progress), settings);
    }
}
