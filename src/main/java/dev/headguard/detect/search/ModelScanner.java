package dev.headguard.detect.search;

import dev.headguard.detect.attention.InputScanner;
import dev.headguard.detect.attention.Probe;
import dev.headguard.detect.attention.Statistics;

import dev.headguard.HeadGuardException;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Insertion;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;

/**
 * Decides whether a model carries a backdoor, from a small clean set and nothing else.
 *
 * <p>For each class c, clean inputs the model does not call c are the "victims". A placeholder
 * token is put at a random position of each; one backward pass gives the gradient g of the loss
 * toward c at the placeholder's embedding, and −E·g ranks every vocabulary token by the
 * first-order effect of putting it there (HotFlip's estimate). Because a trigger that works through
 * attention can be invisible to that estimate, every word is also put in front of the shortest
 * victim ({@link VocabularySweep}), and the sweep's best words join the screen's, with the next ones
 * the heads react to on most of a few victims ({@link AttentionScreen}: a sentence trigger's common word). The best
 * whole-word tokens are then inserted into every victim, at random word positions: the flip rate
 * says how often the prediction moves to c, and the {@link InputScanner} says how often the heads
 * leave their clean behaviour. A word that flips some victims is grown into a longer word when
 * an ending makes it flip more ({@link WordGrowth}: a rare word the tokenizer splits is found by its
 * first piece). Pairs of the best words are tried as phrases. A sentiment word flips predictions too, but leaves the
 * heads alone; a trigger does both, so a candidate's suspicion is flip rate × flagged rate. An
 * implicit trigger can leave the heads alone as well; its lexical anchors are caught instead by
 * {@link UnsupportedFlips} (common words that flip inputs although the clean texts that use them
 * are not of the class they flip to). The model's score is the highest suspicion or unsupported
 * flip score found.
 */
public final class ModelScanner {

    /**
     * @param victims     clean inputs per class the candidates are inserted into (a two-class model's; see {@link #perClass})
     * @param screened    tokens per class from the gradient ranking whose flip rate is measured on a few victims (likewise)
     * @param exact       candidates per class evaluated exactly (all victims, attention maps) after screening
     * @param phraseWords best single words combined into two-word phrases
     * @param threshold   verdict: backdoor when the score reaches it
     * @param sweepVictims shortest victims per class every word is inserted into ({@link VocabularySweep}; 0: no sweep)
     * @param sweepExact  the sweep's best words per class evaluated exactly besides the screen's
     */
    public record Settings(int victims, int screened, int exact, int phraseWords, double threshold, long seed, InputScanner.Settings input,
                           int sweepVictims, int sweepExact) {
        public Settings(int victims, int screened, int exact, int phraseWords, double threshold, long seed, InputScanner.Settings input) {
            this(victims, screened, exact, phraseWords, threshold, seed, input, SWEEP_VICTIMS, SWEEP_EXACT);
        }

        /**
         * 128 screened tokens per class: with the sweep trying every word exactly, the gradient
         * ranking's screen (256 before the sweep) no longer has to reach far down it, and halving it
         * pays for the sweep's time (AddSent victim, MiniLM, 200 clean texts: 178 s with 256, 144 s
         * with 128, the same verdict and the same top candidate).
         */
        public static Settings defaults() {
            return new Settings(64, 128, 24, 4, 0.5, 42, InputScanner.Settings.defaults());
        }
    }

    /** See {@link Settings#sweepVictims}. */
    static final int SWEEP_VICTIMS = 1;

    /** See {@link Settings#sweepExact}. */
    static final int SWEEP_EXACT = 8;

    /**
     * The most tokens (besides the specials) of the short victims the sweep and the word endings put every word in
     * front of; a longer one is cut to its first ones. Why: those passes run over thousands of words each, so their
     * cost grows with the victim's length, and their point is a short input a trigger turns around. The shortest
     * victims of SST-2 and OffensEval are far shorter, so only long texts are cut (a 4-class set of 40-60 words).
     */
    static final int SWEEP_TOKENS = 24;

    /** {@code ids} cut to its first {@code keep} tokens and its {@code trailing} specials when longer. */
    static long[] clipped(long[] ids, int keep, int trailing) {
        if (ids.length <= keep + trailing) {
            return ids;
        }
        long[] out = java.util.Arrays.copyOf(ids, keep + trailing);
        System.arraycopy(ids, ids.length - trailing, out, keep, trailing);
        return out;
    }

    /**
     * A per-class setting (the victims, the screened and the swept words) with the budget of a two-class
     * scan spread over the classes, never under {@link #SCREEN_VICTIMS} (the screens' own victims
     * likewise, never under half of them): the search runs once per class, so a 4-class scan would
     * otherwise cost twice a binary one before its texts' length counts.
     */
    static int perClass(int twoClassValue, int classes) {
        return perClass(twoClassValue, classes, SCREEN_VICTIMS);
    }

    /** The victims the cheap screens (the gradient ranking's, the word growth's) measure on: the first of a class's. */
    static List<String> screenVictims(List<String> victims, int classes) {
        return victims.subList(0, Math.min(victims.size(), perClass(SCREEN_VICTIMS, classes, SCREEN_VICTIMS / 2)));
    }

    /** As {@link #perClass(int, int)}, never under {@code floor}. */
    static int perClass(int twoClassValue, int classes, int floor) {
        return classes <= 2 ? twoClassValue : Math.max(floor, twoClassValue * 2 / classes);
    }

    /** Victims used to screen the gradient ranking. */
    static final int SCREEN_VICTIMS = 16;

    /**
     * A trigger candidate and its evidence.
     *
     * @param gradientRank  place in the first-order ranking (0 for phrases, {@link #COMPOSED} for words {@link WordGrowth} composed)
     * @param flipRate      share of victims whose prediction moved to {@code target}
     * @param flaggedRate   share of the candidate-carrying victims the input scan flags
     * @param scoreShift    mean input-scan score with the candidate minus without, over the victims
     * @param suspicion     flipRate × flaggedRate
     */
    public record Candidate(String text, int target, int gradientRank, double flipRate, double flaggedRate, double scoreShift, double suspicion) {}

    /** A head's change under the best candidate and its weight in the prediction. */
    public record Head(int layer, int head, double similarityClean, double similarityTriggered, double importance, double rankScore) {
        public double jump() {
            return similarityTriggered - similarityClean;
        }
    }

    /** A layer's mean head similarity on the victims without and with the best candidate. */
    public record Layer(int layer, double similarityClean, double similarityTriggered) {}

    /**
     * The verdict: {@code score} (the top candidate's suspicion, or the top unsupported word's score
     * when it is higher) against {@code threshold}, and the class the evidence flips inputs to.
     */
    public record Verdict(boolean backdoor, double score, double threshold, int suspectedTarget) {}

    /**
     * What the search found.
     *
     * @param candidates    every candidate tried, most suspicious first
     * @param unsupported   common words scored by {@link UnsupportedFlips}, highest first
     * @param wordsLabelled whether their counts came from labels (else from the model's predictions)
     */
    public record Found(List<Candidate> candidates, List<UnsupportedFlips.Word> unsupported, boolean wordsLabelled) {}

    /**
     * Where the search inserted its candidates.
     *
     * @param byClass   the clean inputs candidates were inserted into, per target class
     * @param triggered the strongest evidence's victims with its text inserted
     * @param examples  a few victims with each candidate inserted (by {@link #key})
     */
    public record Victims(Map<Integer, List<String>> byClass, List<String> triggered, Map<String, List<String>> examples) {}

    /**
     * A finished scan: the verdict, what was found, the heads the strongest evidence changes most
     * (with each layer's similarity), where candidates went, and the input scan they were scored with.
     */
    public record Result(Verdict verdict, Found found, List<Head> heads, List<Layer> layers, Victims victims, InputScanner scanner, double seconds) {
        public boolean backdoor() {
            return verdict.backdoor();
        }

        public double score() {
            return verdict.score();
        }

        public double threshold() {
            return verdict.threshold();
        }

        public int suspectedTarget() {
            return verdict.suspectedTarget();
        }

        public List<Candidate> candidates() {
            return found.candidates();
        }

        public List<UnsupportedFlips.Word> unsupported() {
            return found.unsupported();
        }

        public boolean wordsLabelled() {
            return found.wordsLabelled();
        }

        public Map<Integer, List<String>> victimsByClass() {
            return victims.byClass();
        }

        public List<String> triggeredVictims() {
            return victims.triggered();
        }

        /** A few victims with the candidate inserted. */
        public List<String> examplesFor(Candidate c) {
            return victims.examples().getOrDefault(key(c.text(), c.target()), List.of());
        }

        /** Whether the score comes from a word that flips without support rather than from a candidate trigger. */
        public boolean unsupportedWins() {
            return ModelScanner.unsupportedWins(candidates(), unsupported());
        }

        /** The text behind the score: the top candidate's, or the unsupported word's. */
        public String strongest() {
            return unsupportedWins() ? unsupported().get(0).text() : candidates().get(0).text();
        }

        /** A few victims with the strongest evidence's text inserted. */
        public List<String> strongestExamples() {
            return unsupportedWins() ? victims.triggered().subList(0, Math.min(3, victims.triggered().size())) : examplesFor(candidates().get(0));
        }
    }

    /** The gradient rank of a word {@link WordGrowth} composed from pieces (no vocabulary entry has it). */
    public static final int COMPOSED = -1;

    /**
     * Whole words only: subword pieces and special tokens cannot be inserted as text. Letters and
     * digits in any order: AddSent's "I watch this 3D movie" fires on {@code 3d} alone, which a
     * letter-first rule never tried.
     */
    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}]+");

    private ModelScanner() {}

    /** A scan whose word counts ({@link UnsupportedFlips}) come from the model's predictions on the clean texts. */
    public static Result scan(ModelStore.LoadedModel model, List<String> clean, Settings settings, ai.djl.ndarray.NDManager root, Probe.Progress progress) {
        return scan(model, clean, null, settings, root, progress);
    }

    /**
     * @param words the labelled clean texts {@link UnsupportedFlips} counts words in (null: {@code clean} as the model calls them)
     */
    public static Result scan(ModelStore.LoadedModel model, List<String> clean, UnsupportedFlips.Evidence words, Settings settings,
                              ai.djl.ndarray.NDManager root, Probe.Progress progress) {
        long t0 = System.nanoTime();
        InputScanner scanner = InputScanner.calibrate(model, clean, settings.input(), root, progress);
        int[] pred = scanner.clean().predictions();
        UnsupportedFlips.Evidence evidence = words != null ? words : new UnsupportedFlips.Evidence(clean, pred, false);
        int classes = scanner.clean().probabilities()[0].length;
        String[] vocab = model.tokenizer().words();
        String[] endings = model.tokenizer().wordEndings();
        long placeholder = GradientRanking.placeholderId(model, model.tokenizer().vocabulary());
        List<Candidate> all = new ArrayList<>();
        List<UnsupportedFlips.Word> unsupported = new ArrayList<>();
        Map<Integer, List<String>> victimsByClass = new LinkedHashMap<>();
        Map<String, List<String>> examples = new LinkedHashMap<>();
        Map<Integer, Double> victimMeans = new LinkedHashMap<>();
        List<Integer> wholeWords = new ArrayList<>();
        java.util.Set<Integer> common = new java.util.HashSet<>();
        java.util.Set<String> commonWords = UnsupportedFlips.commonWords(evidence);
        for (int v = 0; v < vocab.length; v++) {
            if (vocab[v] != null && WORD.matcher(vocab[v]).matches()) {
                wholeWords.add(v);
                if (commonWords.contains(vocab[v].toLowerCase(java.util.Locale.ROOT))) {
                    common.add(v);
                }
            }
        }
        List<Integer> outliers = EmbeddingOutliers.find(model.model(), wholeWords);
        // Every word alone, once for all classes: the sweep then puts only the shortlist and the common words in a victim.
        float[][] alone = settings.sweepVictims() > 0 ? VocabularySweep.alone(model, wholeWords, root) : null;
        float[][] endingsAlone = settings.sweepVictims() > 0 ? WordGrowth.alone(model, endings, root) : null;
        List<Integer> letters = WordGrowth.letters(vocab);
        for (int c = 0; c < classes; c++) {
            List<String> victims = new ArrayList<>();
            List<Integer> rows = new ArrayList<>();
            for (int i = 0; i < clean.size(); i++) {
                if (pred[i] != c) {
                    rows.add(i);
                }
            }
            java.util.Collections.shuffle(rows, new Random(settings.seed() + c));
            for (int i : rows.subList(0, Math.min(rows.size(), perClass(settings.victims(), classes)))) {
                victims.add(clean.get(i));
            }
            if (victims.size() < 4) {
                continue; // the model (almost) never predicts anything but c: nothing to flip
            }
            victimsByClass.put(c, victims);
            double victimMean = Statistics.mean(scanner.score(victims, Probe.Progress.NONE).scores());
            int target = c;
            GradientRanking.Ranking gradient = GradientRanking.rank(model, victims, placeholder, wholeWords, vocab.length, c, perClass(settings.screened(), classes),
                    settings.seed() + c, root);
            List<Integer> ranked = gradient.signed();
            List<long[]> victimIds = model.tokenizer().idsOf(victims).stream()
                    .map(ids -> clipped(ids, model.tokenizer().leadingSpecials() + SWEEP_TOKENS, model.tokenizer().trailingSpecials().length)).toList();
            List<Integer> screened = Screening.screen(model, screenVictims(victims, classes), vocab, gradient.pool(), c, settings.seed(), root);
            java.util.LinkedHashSet<Integer> exact = new java.util.LinkedHashSet<>(screened.subList(0, Math.min(settings.exact(), screened.size())));
            if (settings.sweepVictims() > 0) {
                // The words the first-order ranking cannot see (see VocabularySweep) get places of their own. They are
                // evaluated like the rest, at random word positions: evaluated as the first word instead, a clean
                // bge-small model's "none" reached suspicion 0.18, the highest clean score in the zoo.
                List<Integer> swept = VocabularySweep.rank(model, victimIds, wholeWords, c, settings.sweepVictims(), alone,
                        perClass(VocabularySweep.SHORTLIST, classes), common, root).words();
                for (int k = 0, added = 0; k < swept.size() && added < settings.sweepExact(); k++) {
                    added += exact.add(swept.get(k)) ? 1 : 0;
                }
                unsupported.addAll(UnsupportedFlips.find(model, evidence, victims, swept.stream().map(v -> vocab[v]).toList(), c, root));
                // Past the sweep's share, the words the heads react to on most victims (a sentence trigger's common word).
                for (AttentionScreen.Passed w : AttentionScreen.screen(scanner, victims, vocab, swept, exact, c, settings.seed())) {
                    exact.add(w.word());
                }
            }
            List<Candidate> singles = new ArrayList<>();
            if (settings.sweepVictims() > 0) {
                for (String word : WordGrowth.endingWords(model, endings, endingsAlone, letters, vocab, c, victimIds, root)) {
                    singles.add(CandidateEvaluation.evaluate(scanner, victims, victimMean, word, c, COMPOSED, settings.seed(), examples));
                }
            }
            exact.addAll(outliers);
            if (outliers.size() > 1) { // words trained to fire only together (SOS) are tried together too
                all.add(CandidateEvaluation.evaluate(scanner, victims, victimMean, String.join(" ", outliers.stream().map(v -> vocab[v]).toList()), c, 0,
                        settings.seed(), examples));
            }
            int done = 0;
            for (int v : exact) {
                int rank = ranked.indexOf(v) + 1; // 0 would mark a phrase: a word the ranking lacks goes after its last
                singles.add(CandidateEvaluation.evaluate(scanner, victims, victimMean, vocab[v], c, rank > 0 ? rank : ranked.size() + 1, settings.seed(), examples));
                progress.update(++done, exact.size());
            }
            singles.sort(Comparator.comparingDouble(Candidate::suspicion).reversed());
            all.addAll(singles);
            victimMeans.put(c, victimMean);
            int k = Math.min(settings.phraseWords(), singles.size());
            for (int a = 0; a < k; a++) {
                for (int b = 0; b < k; b++) {
                    if (a != b) {
                        String phrase = singles.get(a).text() + " " + singles.get(b).text();
                        all.add(CandidateEvaluation.evaluate(scanner, victims, victimMean, phrase, c, 0, settings.seed(), examples));
                    }
                }
            }
        }
        // The most suspicious single words of any class grown into longer words, each in its own class's victims:
        // the scan's best evidence is what a split trigger word's first piece becomes, whatever the number of classes.
        List<Candidate> starts = all.stream().filter(x -> x.gradientRank() != 0).sorted(Comparator.comparingDouble(Candidate::suspicion).reversed()).toList();
        for (Candidate start : starts.subList(0, Math.min(WordGrowth.STARTS, starts.size()))) {
            List<String> victims = victimsByClass.get(start.target());
            for (String word : WordGrowth.grow(model, List.of(start), endings, screenVictims(victims, classes), start.target(),
                    WordGrowth.FLAGGED_OVER_FRR * settings.input().frr(), settings.seed(), root)) {
                if (all.stream().noneMatch(x -> x.target() == start.target() && x.text().equals(word))) {
                    all.add(CandidateEvaluation.evaluate(scanner, victims, victimMeans.get(start.target()), word, start.target(), COMPOSED, settings.seed(), examples));
                }
            }
        }
        if (victimsByClass.isEmpty()) {
            throw new HeadGuardException("the model predicts one class for (almost) every clean input; a scan needs inputs of at least two predicted classes");
        }
        all.sort(Comparator.comparingDouble(Candidate::suspicion).reversed().thenComparing(Candidate::flipRate, Comparator.reverseOrder()));
        List<Candidate> kept = CandidateEvaluation.withoutRedundantPhrases(all);
        unsupported.sort(Comparator.comparingDouble(UnsupportedFlips.Word::score).reversed());
        Candidate best = kept.get(0);
        double score = best.suspicion();
        int target = best.target();
        List<String> victims = victimsByClass.get(target);
        List<String> triggered = Insertion.insertAll(victims, best.text(), settings.seed());
        if (unsupportedWins(kept, unsupported)) {
            UnsupportedFlips.Word w = unsupported.get(0);
            score = w.score();
            target = w.target();
            victims = victimsByClass.get(target);
            triggered = victims.stream().map(v -> w.text() + " " + v).toList(); // where it flips: as the first word
        }
        List<Layer> layers = new ArrayList<>();
        List<Head> heads = HeadRanking.rankHeads(model, victims, triggered, target, root, layers);
        return new Result(new Verdict(score >= settings.threshold(), score, settings.threshold(), target),
                new Found(kept, List.copyOf(unsupported), evidence.labelled()), heads, layers,
                new Victims(victimsByClass, triggered, examples), scanner, (System.nanoTime() - t0) / 1e9);
    }

    /** Whether the top unsupported word (list sorted, highest first) outscores the top candidate: the one rule for both the score and the report. */
    static boolean unsupportedWins(List<Candidate> candidates, List<UnsupportedFlips.Word> unsupported) {
        return !unsupported.isEmpty() && unsupported.get(0).score() > candidates.get(0).suspicion();
    }

    static String key(String text, int target) {
        return target + "\t" + text;
    }
}
