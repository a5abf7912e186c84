package dev.headguard.detect.hidden;

import dev.headguard.detect.attention.AttentionFeatures;
import dev.headguard.detect.attention.InputScanner;
import dev.headguard.detect.attention.Probe;
import dev.headguard.detect.search.ModelScanner;
import dev.headguard.detect.search.UnsupportedFlips;
import dev.headguard.text.Insertion;

import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.model.io.ModelStore;

import java.util.ArrayList;
import java.util.List;

/**
 * A per-input filter for implicit triggers that needs nothing but the clean set: the backdoor's
 * direction in the model's hidden space ({@link HiddenDirection}), learned not from a
 * suspect training set but from the clean texts themselves with the model scan's strongest
 * evidence put in: its top trigger candidate at a random word position, or the word that flips
 * inputs without support ({@link UnsupportedFlips}) as their first word.
 *
 * <p>Why this reaches triggers the word never was: a syntactic template cannot be inserted, but the
 * scan finds its lexical anchor (SynBkd's "when" opening a sentence), and the anchor drives the
 * inputs through the same backdoor path the template does, so the hidden-state direction the
 * anchor-carrying clean texts move along is the one real triggered inputs move along (figures in docs/how-it-works.md,
 * "Design records").
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
                return Insertion.insertAll(clean, text, seed);
            }
            List<String> out = new ArrayList<>(clean.size());
            for (String c : clean) {
                out.add(text + " " + c.strip());
            }
            return out;
        }
    }

    /**
     * One pass over the clean texts with the evidence put in: their [CLS] states (the suspects
     * {@link HiddenStateScan#learn} learns the direction from) and, when {@code features} is given,
     * their attention features (for {@link Choice}).
     */
    public static Probe.WithStates carrierPass(ModelStore.LoadedModel model, List<String> cleanTexts, Evidence evidence, AttentionFeatures features,
                                               HiddenStateScan.Settings settings, NDManager root, Probe.Progress progress) {
        return Probe.runWithStates(model, evidence.carriers(cleanTexts, settings.seed()), features, root, settings.batchSize(), progress);
    }

    /**
     * The direction one piece of evidence gives, with its carriers' pass (for {@link Choice}).
     *
     * @param tried every piece tried, in the order given, with the carriers its direction flagged
     */
    public record Strongest(Evidence evidence, Probe.WithStates carrierPass, HiddenStateScan.States carriers, HiddenStateScan.Learned learned,
                            List<Tried> tried) {}

    /** A piece of evidence and how many of its carriers its direction flagged (out of sample; 0 when it moves none). */
    public record Tried(Evidence evidence, int carriersFlagged) {}

    /**
     * Of several pieces of evidence (the scan's top candidate and its top unsupported word), the one
     * whose carriers the direction they give flags most: the evidence that moves clean texts furthest
     * along one direction is the backdoor's, a word that merely leans toward the target moves few.
     * The first piece is kept on a tie. The rule {@link Choice} applies between the two detectors,
     * applied between the pieces; why both are tried is in docs/results.md (the StyleBkd victim's
     * top unsupported word outscores its Bible-word candidate as a verdict, not as a direction).
     */
    public static Strongest strongest(ModelStore.LoadedModel model, List<String> cleanTexts, List<Evidence> evidence, AttentionFeatures features,
                                      HiddenStateScan.States cleanStates, HiddenStateScan.Settings settings, NDManager root,
                                      java.util.function.Function<Evidence, Probe.Progress> progress) {
        if (evidence.isEmpty()) {
            throw new IllegalArgumentException("no evidence to learn a direction from");
        }
        Strongest best = null;
        int bestFlagged = -1;
        List<Tried> tried = new ArrayList<>();
        for (Evidence e : evidence) {
            Probe.WithStates pass = carrierPass(model, cleanTexts, e, features, settings, root, progress.apply(e));
            HiddenStateScan.States carriers = HiddenStateScan.States.of(pass);
            HiddenStateScan.Learned learned = HiddenStateScan.learnFromCarriers(model, cleanStates, carriers, settings);
            int flagged = learned.scan().found(settings.frr(), HiddenStateScan.MIN_EXCESS) ? learned.scan().flagged().size() : 0;
            tried.add(new Tried(e, flagged));
            if (flagged > bestFlagged) {
                best = new Strongest(e, pass, carriers, learned, null);
                bestFlagged = flagged;
            }
        }
        return new Strongest(best.evidence(), best.carrierPass(), best.carriers(), best.learned(), List.copyOf(tried));
    }

    /**
     * Which of the two per-input detectors the evidence says to trust for this model: the attention
     * scan when it flags at least half the carriers, else the attention scan or the evidence's
     * direction, whichever flags more of the carriers at the same false-rejection rate. A token trigger that makes the heads converge is seen by both (the
     * attention scan, which needs no class, is kept on a tie); an anchor word or a trigger the heads
     * ignore moves the hidden state without moving the heads (SynBkd's "when": the attention scan
     * flags few carriers, the direction most). The rule of {@link BatchAudit}, applied to the
     * carriers instead of a batch of real inputs, so that each input is then scored on its own.
     *
     * @param direction        true when the direction was chosen
     * @param attentionFlagged carriers the attention scan flags
     * @param directionFlagged carriers the direction flags, each scored along the direction the other
     *                         half of the carriers gave ({@link HiddenStateScan.Learned#scan()}: out of
     *                         sample), 0 when the evidence does not move the hidden state
     */
    public record Choice(boolean direction, int attentionFlagged, int directionFlagged) {
        /** The share of the carriers the attention scan must flag to be kept whatever the direction flags. */
        public static final double ATTENTION_MAJORITY = 0.5;

        public static Choice of(InputScanner scanner, Probe.Result carrierAttention, HiddenStateScan.Learned learned) {
            InputScanner.Scores scores = scanner.score(carrierAttention);
            int a = scores.flaggedCount();
            double frr = scanner.settings().frr();
            int d = learned.scan().found(frr, HiddenStateScan.MIN_EXCESS) ? learned.scan().flagged().size() : 0;
            // Heads that react to most carriers react to the trigger itself, whichever of its forms an input
            // carries; a direction learned from one form need not reach the others (docs/results.md).
            boolean headsSeeIt = a >= ATTENTION_MAJORITY * scores.scores().length;
            return new Choice(!headsSeeIt && d > a, a, d);
        }

        public String chosen() {
            return direction ? "direction" : "attention";
        }

        /**
         * Each input's score from the chosen detector, flagged above 0: the direction's margin, or the
         * attention score's distance above its threshold in calibration standard deviations.
         */
        public double[] scores(InputScanner scanner, Probe.Result attention, HiddenDirection d, HiddenStateScan.States states) {
            if (direction) {
                return d.margins(states);
            }
            return scanner.margins(scanner.score(attention));
        }
    }
}
