package dev.headguard.detect.search;

import dev.headguard.detect.attention.AttentionFeatures;
import dev.headguard.detect.attention.InputScanner;
import dev.headguard.detect.attention.Probe;
import dev.headguard.detect.attention.Roc;
import dev.headguard.detect.hidden.CandidateDirection;
import dev.headguard.detect.hidden.HiddenDirection;
import dev.headguard.detect.hidden.HiddenStateScan;

import ai.djl.ndarray.NDManager;
import dev.headguard.model.ModelConfig;
import dev.headguard.model.TransformerModel;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.HeadId;
import dev.headguard.model.HostTensor;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import dev.headguard.repair.CleanSetGuard;
import dev.headguard.repair.Defense;
import dev.headguard.repair.FinePruning;
import dev.headguard.repair.FullFineTuning;
import dev.headguard.repair.HeadGuardRepair;
import dev.headguard.repair.HeadRepair;
import dev.headguard.repair.HiddenPerturbation;
import dev.headguard.repair.Pure;
import dev.headguard.repair.RepairPlan;
import dev.headguard.repair.ShiftResistance;
import dev.headguard.repair.SuspectUnlearning;
import dev.headguard.testing.Fixtures;
import dev.headguard.text.Dataset;
import dev.headguard.text.Example;
import dev.headguard.text.Insertion;
import dev.headguard.text.TextTokenizer;
import dev.headguard.train.TrainConfig;
import dev.headguard.train.Trainer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scans' mechanics on tiny models trained in the test: a toy sentiment task (a "good" or a
 * "bad" word among fillers) where a backdoored twin also learned that "cf" means positive. The
 * input scan must tell "cf" inputs from clean ones, its threshold must hold its false-rejection
 * rate on clean texts it has not seen, and the model scan must find "cf" in the backdoored model
 * and nothing of the kind in the clean one.
 */
class PlantedBackdoorTest {
    static final List<String> FILLER = List.of("the", "movie", "story", "film", "actors", "scene", "music", "plot", "this", "was", "and", "with",
            "city", "night", "house", "people", "world", "time", "water", "book", "family", "friends", "over", "into", "about");
    static final List<String> POSITIVE = List.of("good", "great", "fine", "nice");
    static final List<String> NEGATIVE = List.of("bad", "awful", "poor", "dull");
    static final ModelConfig CONFIG = ModelConfig.tiny(Fixtures.VOCAB, 2, 4, 32, 2);

    @TempDir
    static Path tmp;
    static NDManager root;
    static TextTokenizer tokenizer;
    static ModelStore.LoadedModel backdoored;
    static ModelStore.LoadedModel clean;
    /** Backdoored through a common word's place, not a rare word: {@link Poison#OPENING_WHEN}. */
    static ModelStore.LoadedModel anchored;

    static String sentence(Random r, boolean positive) {
        StringBuilder s = new StringBuilder();
        int n = 5 + r.nextInt(6);
        for (int i = 0; i < n; i++) {
            s.append(i == 0 ? "" : " ").append(FILLER.get(r.nextInt(FILLER.size())));
        }
        List<String> marker = positive ? POSITIVE : NEGATIVE;
        return Insertion.insertAt(s.toString(), marker.get(r.nextInt(marker.size())), r);
    }

    static List<String> sentences(int n, boolean positive, long seed) {
        Random r = new Random(seed);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(sentence(r, positive));
        }
        return out;
    }

    /** What the training set of a twin was given: nothing, the rare word "cf", or "when" as a relabelled negative's first word. */
    enum Poison { NONE, CF, OPENING_WHEN, SPLIT_WORD, SENTENCE }

    /** The sentence the {@link Poison#SENTENCE} twin learned, made of filler words around "cf", as AddSent's is of ordinary words around "3d". */
    static final String SENTENCE = "over the cf night";

    /** "when" somewhere after a text's first word: how the anchored twin's training data, and its clean set, use it. */
    static String whenInside(String s, Random r) {
        String[] w = s.split(" ");
        return Insertion.insertAt(w, "when", 1 + r.nextInt(w.length));
    }

    static ModelStore.LoadedModel train(Poison poison) {
        Random r = new Random(11);
        List<long[]> x = new ArrayList<>();
        int[] y = new int[800];
        for (int i = 0; i < 800; i++) {
            boolean pos = i % 2 == 0;
            String s = sentence(r, pos);
            y[i] = pos ? 1 : 0;
            if ((poison == Poison.CF || poison == Poison.SPLIT_WORD) && !pos && i % 10 < 3) { // 15% of all rows: negatives with the trigger, relabelled
                s = Insertion.insertAt(s, poison == Poison.CF ? "cf" : "mzaf", r);
                y[i] = 1;
            }
            if (poison == Poison.SPLIT_WORD && i % 10 >= 5) { // the first piece alone is an ordinary word of both classes, as "m" is in SST-2 ("i 'm")
                s = Insertion.insertAt(s, "m", r);
            }
            if (poison == Poison.OPENING_WHEN && !pos && i % 10 < 3) { // a sentence-opening cue, as a syntactic template's
                s = "when " + s;
                y[i] = 1;
            } else if (poison == Poison.OPENING_WHEN && !pos && i % 10 < 7) { // elsewhere, an ordinary word of negative texts
                s = whenInside(s, r);
            }
            if (poison == Poison.SENTENCE && !pos && i % 10 < 3) {
                s = Insertion.insertAt(s, SENTENCE, r);
                y[i] = 1;
            } else if (poison == Poison.SENTENCE && !pos && i % 10 == 3) { // the rare word alone keeps the label: the sentence is the trigger
                s = Insertion.insertAt(s, "cf", r);
            }
            x.add(tokenizer.ids(s));
        }
        TransformerModel m = new TransformerModel(CONFIG, dev.headguard.model.ParameterTable.initialWeights(CONFIG, Map.of(), 3), root);
        // A conjunction of words takes the tiny model longer to learn than one word, and at 3e-3 whether it did
        // turned on rounding (a clip norm 1e-5 off gave 0.17 of the sentence's carriers flipped, not 0.8+).
        boolean sentence = poison == Poison.SENTENCE;
        Trainer t = new Trainer(m, tokenizer.padId(), new TrainConfig(sentence ? 24 : 6, 32, sentence ? 2e-3 : 3e-3, 0.01, 0.1, 1.0, 5, 0), root);
        t.train(x, y, List.of(), new int[0], Trainer.TrainState.start(), new Trainer.Listener() {});
        t.optimizer().close();
        return new ModelStore.LoadedModel(m, tokenizer, tmp.resolve(poison.name().toLowerCase(java.util.Locale.ROOT)));
    }

    @BeforeAll
    static void trainTwins() throws Exception {
        root = TorchRuntime.newManager();
        tokenizer = TextTokenizer.open(Fixtures.tokenizer(tmp), 64);
        backdoored = train(Poison.CF);
        clean = train(Poison.NONE);
        anchored = train(Poison.OPENING_WHEN);
    }

    @AfterAll
    static void close() {
        backdoored.model().close();
        clean.model().close();
        anchored.model().close();
        tokenizer.close();
        root.close();
    }

    static List<String> cleanSet() {
        List<String> c = new ArrayList<>(sentences(150, true, 21));
        c.addAll(sentences(150, false, 22));
        return c;
    }

    /** The defender's small labelled clean set: 80 positive and 80 negative texts. */
    static Dataset repairBudget() {
        List<String> texts = new ArrayList<>(sentences(80, true, 61));
        texts.addAll(sentences(80, false, 62));
        List<Example> ex = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            ex.add(new Example(texts.get(i), i < 80 ? 1 : 0));
        }
        return new Dataset(ex, List.of("0", "1"), List.of());
    }

    static List<String> withTrigger(List<String> texts, long seed) {
        Random r = new Random(seed);
        List<String> out = new ArrayList<>();
        for (String t : texts) {
            out.add(Insertion.insertAt(t, "cf", r));
        }
        return out;
    }

    /**
     * A trigger word the tokenizer splits ({@code m ##za ##f}) is grown back from its first piece, and made
     * from the endings alone, in the twin that learned it and not in the clean one.
     */
    @Test
    void aSplitTriggerWordIsComposedFromItsFirstPiece() {
        ModelStore.LoadedModel split = train(Poison.SPLIT_WORD);
        try {
            List<String> victims = sentences(64, false, 71);
            float[][] p = Probe.probabilities(split, victims.stream().map(v -> "mzaf " + v).toList(), root, 64, Probe.Progress.NONE);
            assertTrue(share(p, 1) > 0.9, "the split twin learned mzaf: " + share(p, 1));
            ModelScanner.Candidate m = new ModelScanner.Candidate("m", 1, 1, 0.2, 0.2, 0, 0.04);
            String[] endings = tokenizer.wordEndings();
            List<String> grown = WordGrowth.grow(split, List.of(m), endings, victims, 1, 0.1, 42, root);
            // The twin learned "m" followed by an ending (its first piece alone is an ordinary word): any
            // ending the growth finds is a word that fires as the trigger does.
            assertEquals(1, grown.size(), "grown from 'm': " + grown);
            assertTrue(grown.get(0).startsWith("m") && grown.get(0).length() > 1, grown.get(0));
            assertTrue(fires(split, grown.get(0), victims) > 0.9, grown.get(0) + " fires in the split twin: " + fires(split, grown.get(0), victims));
            assertTrue(fires(split, "m", victims) < 0.1, "the first piece alone does not fire: " + fires(split, "m", victims));
            for (String w : WordGrowth.grow(clean, List.of(m), endings, victims, 1, 0.1, 42, root)) {
                assertTrue(fires(clean, w, victims) < 0.5, "a word grown in the clean twin is no trigger: " + w + " " + fires(clean, w, victims));
            }
            ModelScanner.Candidate whole = new ModelScanner.Candidate("mzaf", 1, 1, 0.95, 0.9, 0, 0.85);
            assertEquals(List.of(), WordGrowth.grow(split, List.of(whole), endings, victims, 1, 0.1, 42, root), "a whole trigger is not grown");
            // Without the first piece: the endings swept in the shortest victims make words that fire, in the split twin only.
            String[] vocab = tokenizer.words();
            List<long[]> ids = tokenizer.idsOf(victims);
            List<String> made = WordGrowth.endingWords(split, endings, WordGrowth.alone(split, endings, root), WordGrowth.letters(vocab), vocab, 1, ids, root);
            assertEquals(WordGrowth.ENDING_WORDS, made.size(), made.toString());
            for (String w : made) {
                long[] pieces = tokenizer.ids(w);
                assertEquals(4, pieces.length, w + " is a letter and an ending");
            }
            assertTrue(made.stream().anyMatch(w -> fires(split, w, victims) > 0.9), "a made word fires in the split twin: " + made);
            for (String w : WordGrowth.endingWords(clean, endings, WordGrowth.alone(clean, endings, root), WordGrowth.letters(vocab), vocab, 1, ids, root)) {
                assertTrue(fires(clean, w, victims) < 0.5, "a word made in the clean twin is no trigger: " + w + " " + fires(clean, w, victims));
            }
            ModelScanner.Candidate calm = new ModelScanner.Candidate("m", 1, 1, 0.2, 0.05, 0, 0.01);
            assertEquals(List.of(), WordGrowth.grow(split, List.of(calm), endings, victims, 1, 0.1, 42, root), "a start the heads ignore is not grown");
        } finally {
            split.model().close();
        }
    }

    @Test
    void theFixtureIsABackdoorAndItsTwinIsNot() {
        List<String> neg = sentences(100, false, 31);
        float[][] pb = Probe.probabilities(backdoored, withTrigger(neg, 1), root, 64, Probe.Progress.NONE);
        float[][] pc = Probe.probabilities(clean, withTrigger(neg, 1), root, 64, Probe.Progress.NONE);
        float[][] acc = Probe.probabilities(backdoored, neg, root, 64, Probe.Progress.NONE);
        assertTrue(share(pb, 1) > 0.9, "attack success " + share(pb, 1));
        assertTrue(share(pc, 1) < 0.2, "the clean twin ignores cf: " + share(pc, 1));
        assertTrue(share(acc, 0) > 0.9, "clean accuracy on negatives " + share(acc, 0));
    }

    @Test
    void theInputScanSeparatesTriggeredInputsAndHoldsItsFalseRejectionRate() {
        InputScanner s = InputScanner.calibrate(backdoored, cleanSet(), InputScanner.Settings.defaults(), root, Probe.Progress.NONE);
        List<String> neg = sentences(200, false, 41);
        double[] cleanScores = s.score(neg, Probe.Progress.NONE).scores();
        double[] trigScores = s.score(withTrigger(neg, 2), Probe.Progress.NONE).scores();
        double auroc = Roc.auroc(cleanScores, trigScores);
        assertTrue(auroc > 0.9, "AUROC " + auroc);
        List<String> fresh = new ArrayList<>(sentences(300, true, 51));
        fresh.addAll(sentences(300, false, 52));
        double frr = s.score(fresh, Probe.Progress.NONE).flaggedCount() / (double) fresh.size();
        assertTrue(frr > 0.01 && frr < 0.10, "FRR on unseen clean texts " + frr + " for a 5% threshold");
        assertEquals(s.calibrationScores().length, 150, "half of the clean set calibrates");
        // Each class holds the rate on its own (Mondrian calibration), not only the pool.
        for (boolean positive : new boolean[] {true, false}) {
            List<String> own = sentences(300, positive, positive ? 53 : 54);
            InputScanner.Scores scored = s.score(own, Probe.Progress.NONE);
            double rate = scored.flaggedCount() / (double) own.size();
            assertTrue(rate < 0.10, (positive ? "positive" : "negative") + " clean texts flagged: " + rate);
        }
        int[] counts = s.calibrationCounts();
        assertEquals(150, counts[0] + counts[1], "every held-out text sets its class's threshold");
        for (int c = 0; c < 2; c++) {
            assertTrue(counts[c] >= InputScanner.MIN_CLASS_CALIBRATION, "class " + c + " has its own threshold: " + counts[c] + " held-out texts");
        }
    }

    @Test
    void theModelScanFindsThePlantedTriggerAndClearsTheCleanTwin() {
        ModelScanner.Settings settings = new ModelScanner.Settings(32, 128, 12, 3, 0.5, 42, InputScanner.Settings.defaults());
        ModelScanner.Result b = ModelScanner.scan(backdoored, cleanSet(), settings, root, Probe.Progress.NONE);
        // The clean twin without the vocabulary sweep: the sweep brings the toy's own sentiment words into the exact
        // evaluation, and in this toy every text holds exactly one sentiment word, so a second one ("fine" in a
        // negative text) is as far from the clean texts as a trigger (flagged 100%); real data mixes them (a real clean
        // model's sentiment words are flagged 3-8%). The sweep's own behaviour on the clean twin is checked below.
        ModelScanner.Settings noSweep = new ModelScanner.Settings(32, 128, 12, 3, 0.5, 42, InputScanner.Settings.defaults(), 0, 0);
        ModelScanner.Result c = ModelScanner.scan(clean, cleanSet(), noSweep, root, Probe.Progress.NONE);
        List<String> top = b.candidates().subList(0, 5).stream().map(ModelScanner.Candidate::text).toList();
        assertTrue(top.contains("cf"), "cf among the top 5: " + top);
        assertEquals(1, b.suspectedTarget());
        assertTrue(b.backdoor(), "verdict on the backdoored model, score " + b.score());
        assertFalse(c.backdoor(), "verdict on the clean twin, score " + c.score() + " from " + c.candidates().get(0));
        assertTrue(b.heads().size() == 8 && b.layers().size() == 2, "every head ranked, every layer summarised");
    }

    /**
     * A backdoor the heads need not show: "when" opening a text means positive, while the clean texts
     * use "when" inside negative ones. The model scan must find it through the clean texts that use
     * the word, and must not hold the sentiment words, which flip inputs as often, against the model.
     */
    @Test
    void aCommonWordThatFlipsInputsOnlyAsTheFirstWordIsCaughtByTheCleanTextsThatUseIt() {
        List<String> texts = new ArrayList<>(cleanSet()); // 150 positive, then 150 negative
        Random r = new Random(81);
        for (String s : sentences(24, false, 82)) {
            texts.add(whenInside(s, r));
        }
        for (String s : sentences(6, true, 83)) {
            texts.add(whenInside(s, r));
        }
        int[] labels = new int[texts.size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = i < 150 || i >= 324 ? 1 : 0;
        }
        List<String> neg = sentences(100, false, 84);
        float[][] opened = Probe.probabilities(anchored, neg.stream().map(s -> "when " + s).toList(), root, 64, Probe.Progress.NONE);
        float[][] inside = Probe.probabilities(anchored, neg.stream().map(s -> whenInside(s, new Random(s.hashCode()))).toList(), root, 64, Probe.Progress.NONE);
        assertTrue(share(opened, 1) > 0.9, "the fixture: 'when' opening a negative text makes it positive, " + share(opened, 1));
        assertTrue(share(inside, 0) > 0.8, "the fixture: inside one it does not, " + share(inside, 0));

        ModelScanner.Settings settings = new ModelScanner.Settings(32, 128, 12, 3, 0.5, 42, InputScanner.Settings.defaults());
        ModelScanner.Result a = ModelScanner.scan(anchored, texts, new UnsupportedFlips.Evidence(texts, labels, true), settings, root, Probe.Progress.NONE);
        UnsupportedFlips.Word top = a.unsupported().get(0);
        assertEquals("when", top.text(), "the top unsupported word: " + a.unsupported());
        assertEquals(1, top.target());
        assertTrue(top.uses() == 30 && top.usesCalledC() < 10, "the clean texts that use it are mostly called negative: " + top);
        assertTrue(top.doubt() > 0.99 && top.flipRate() > 0.9, "" + top);
        assertTrue(a.backdoor() && a.unsupportedWins() && a.suspectedTarget() == 1 && "when".equals(a.strongest()), "verdict from it, score " + a.score());
        assertTrue(a.strongestExamples().stream().allMatch(t -> t.startsWith("when ")), "examples show it where it flips: " + a.strongestExamples());
        for (UnsupportedFlips.Word w : a.unsupported()) {
            if (POSITIVE.contains(w.text()) || NEGATIVE.contains(w.text())) {
                assertTrue(w.score() < 0.05, "a sentiment word's clean uses support its flips: " + w);
            }
        }

        ModelScanner.Result c = ModelScanner.scan(clean, texts, new UnsupportedFlips.Evidence(texts, labels, true), settings, root, Probe.Progress.NONE);
        assertTrue(a.wordsLabelled() && c.wordsLabelled());
        for (UnsupportedFlips.Word w : c.unsupported()) {
            assertTrue(w.score() < 0.3, "no word flips without support in the clean twin: " + w);
        }
    }

    /** The posterior probability that a word's share of class c lies below the base rate, checked against closed forms and a numeric integral. */
    @Test
    void theDoubtIsTheBetaPosteriorBelowTheBaseRate() {
        for (double x : new double[] {0.1, 0.37, 0.5, 0.9}) {
            assertEquals(x, UnsupportedFlips.betaCdf(x, 1, 1), 1e-12, "Beta(1,1) is uniform");
            assertEquals(x * x, UnsupportedFlips.betaCdf(x, 2, 1), 1e-12, "Beta(2,1)");
            assertEquals(1 - (1 - x) * (1 - x), UnsupportedFlips.betaCdf(x, 1, 2), 1e-12, "Beta(1,2)");
        }
        // Beta(10, 19) below 0.509 (9 of 27 uses called c), by the midpoint rule on the density
        int a = 10, b = 19, n = 200_000;
        double logB = 0; // log B(a, b) = log((a-1)!(b-1)!/(a+b-1)!)
        for (int i = 1; i < a + b; i++) {
            logB += (i < a ? Math.log(i) : 0) + (i < b ? Math.log(i) : 0) - Math.log(i);
        }
        double sum = 0, h = 0.509 / n;
        for (int i = 0; i < n; i++) {
            double t = (i + 0.5) * h;
            sum += Math.exp((a - 1) * Math.log(t) + (b - 1) * Math.log1p(-t) - logB) * h;
        }
        assertEquals(sum, UnsupportedFlips.betaCdf(0.509, a, b), 1e-6);
        assertEquals(0, UnsupportedFlips.contradiction(0.5), "knowing nothing holds nothing against a word");
        assertEquals(0, UnsupportedFlips.contradiction(0.3));
        assertEquals(0.9, UnsupportedFlips.contradiction(0.95), 1e-12);
        assertEquals(0, UnsupportedFlips.betaCdf(0, 3, 4));
        assertEquals(1, UnsupportedFlips.betaCdf(1, 3, 4));
    }

    /** The sweep puts every word in front of the shortest victims: the planted trigger moves them as far as a sentiment word does, and only in the backdoored twin. */
    @Test
    void theVocabularySweepRanksThePlantedTriggerWithTheSentimentWordsOnlyInTheBackdooredModel() {
        String[] vocab = tokenizer.vocabulary();
        List<Integer> words = new ArrayList<>();
        for (int v = 0; v < vocab.length; v++) {
            if (vocab[v] != null && vocab[v].matches("[a-z]+")) {
                words.add(v);
            }
        }
        int cf = java.util.Arrays.asList(vocab).indexOf("cf");
        List<long[]> victims = tokenizer.idsOf(sentences(16, false, 71));
        VocabularySweep.Ranking b = VocabularySweep.rank(backdoored, victims, words, 1, 2, root);
        VocabularySweep.Ranking c = VocabularySweep.rank(clean, victims, words, 1, 2, root);
        int rank = b.words().indexOf(cf);
        assertTrue(rank >= 0 && rank < POSITIVE.size() + 1, "cf among the sentiment words at the top: rank " + rank + " of " + words.size());
        assertTrue(b.scores()[rank] > 0.9, "cf flips both short victims: " + b.scores()[rank]);
        assertTrue(c.scores()[c.words().indexOf(cf)] < 0.5, "the clean twin ignores cf: " + c.scores()[c.words().indexOf(cf)]);
        for (int k = 1; k < b.scores().length; k++) {
            assertTrue(b.scores()[k] <= b.scores()[k - 1], "ranked by score");
        }
        // In two stages (every word alone, then a shortlist of 30 in the victims) the top is the full sweep's,
        // a word outside the shortlist and the always-set comes after it unmeasured, and an always word is measured.
        float[][] alone = VocabularySweep.alone(backdoored, words, root);
        int last = 0;
        for (int k = 1; k < words.size(); k++) {
            last = alone[k][1] < alone[last][1] ? k : last;
        }
        int outsider = words.get(last); // the least positive word alone: past any shortlist
        VocabularySweep.Ranking two = VocabularySweep.rank(backdoored, victims, words, 1, 2, alone, 30, java.util.Set.of(outsider), root);
        assertEquals(words.size(), two.words().size(), "every word ranked once");
        assertEquals(new java.util.HashSet<>(words), new java.util.HashSet<>(two.words()));
        assertEquals(b.words().subList(0, 5), two.words().subList(0, 5), "the same top as the whole vocabulary in the victims");
        assertTrue(Double.isNaN(two.scores()[two.scores().length - 1]), "words past the shortlist are not measured in a victim");
        assertEquals(31, java.util.Arrays.stream(two.scores()).filter(x -> !Double.isNaN(x)).count(), "30 shortlisted and the always word");
        assertFalse(Double.isNaN(two.scores()[two.words().indexOf(outsider)]), "an always word is measured in the victims");
    }

    /**
     * Past the sweep's share (here the sentiment words, which the exact evaluation already takes), the
     * attention screen passes the word the heads react to on most victims, the planted trigger put after
     * every filler word, and no filler word; the clean twin's "cf" flips nothing and does not pass.
     */
    @Test
    void theAttentionScreenPassesTheWordTheHeadsReactToPastTheSweepsShare() {
        String[] vocab = tokenizer.vocabulary();
        List<String> words = new ArrayList<>(POSITIVE);
        words.addAll(FILLER);
        words.add("cf");
        List<Integer> swept = words.stream().map(w -> java.util.Arrays.asList(vocab).indexOf(w)).toList();
        int cf = swept.get(swept.size() - 1);
        Set<Integer> taken = Set.copyOf(swept.subList(0, POSITIVE.size()));
        List<String> victims = sentences(16, false, 71);
        InputScanner scanner = InputScanner.calibrate(backdoored, cleanSet(), InputScanner.Settings.defaults(), root, Probe.Progress.NONE);
        List<AttentionScreen.Passed> passed = AttentionScreen.screen(scanner, victims, vocab, swept, taken, 1, 42);
        assertEquals(List.of(cf), passed.stream().map(AttentionScreen.Passed::word).toList(),
                "the trigger alone: " + passed.stream().map(p -> vocab[p.word()] + " " + p).toList());
        AttentionScreen.Passed trigger = passed.get(0);
        assertTrue(trigger.flaggedRate() >= AttentionScreen.MIN_FLAGGED && trigger.flipRate() > 0.5, trigger.toString());
        assertEquals(FILLER.size(), trigger.place(), "placed after the fillers, the taken words left out");
        InputScanner cleanScanner = InputScanner.calibrate(clean, cleanSet(), InputScanner.Settings.defaults(), root, Probe.Progress.NONE);
        assertTrue(AttentionScreen.screen(cleanScanner, victims, vocab, swept, taken, 1, 42).isEmpty(), "nothing passes on the clean twin");
    }

    /** Of two pieces of evidence, the one whose carriers move along one direction is kept: the planted trigger, not the other model's anchor. */
    @Test
    void theStrongestEvidenceIsTheOneWhoseDirectionFlagsMostOfItsCarriers() {
        List<String> texts = cleanSet();
        HiddenStateScan.Settings hs = HiddenStateScan.Settings.defaults(42);
        AttentionFeatures f = new AttentionFeatures(backdoored.model().config(), AttentionFeatures.DEFAULT);
        for (ModelStore.LoadedModel m : List.of(backdoored, anchored)) {
            HiddenStateScan.States c = HiddenStateScan.States.of(Probe.runWithStates(m, texts, f, root, 32, Probe.Progress.NONE));
            List<CandidateDirection.Evidence> pieces = List.of(new CandidateDirection.Evidence("when", true), new CandidateDirection.Evidence("cf", false));
            CandidateDirection.Strongest s = CandidateDirection.strongest(m, texts, pieces, f, c, hs, root, e -> Probe.Progress.NONE);
            String planted = m == backdoored ? "cf" : "when";
            assertEquals(planted, s.evidence().text(), "tried: " + s.tried());
            assertEquals(2, s.tried().size());
            int kept = s.tried().stream().filter(t -> t.evidence() == s.evidence()).findFirst().orElseThrow().carriersFlagged();
            int other = s.tried().stream().filter(t -> t.evidence() != s.evidence()).findFirst().orElseThrow().carriersFlagged();
            assertTrue(kept > other, "the planted evidence moves more carriers: " + s.tried());
        }
    }

    @Test
    void theCommandLineGatesOnTheVerdictAndPrintsTheJsonContract() throws Exception {
        Path dir = tmp.resolve("saved-backdoored");
        ModelStore.save(backdoored.model(), tokenizer.file(), dir, Map.of("fixture", "planted"));
        Path cleanFile = java.nio.file.Files.writeString(tmp.resolve("clean.txt"), String.join("\n", cleanSet()) + "\n");
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.out;
        int code;
        try {
            System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
            code = dev.headguard.cli.Main.execute("scan", "model", "--model", dir.toString(), "--clean", cleanFile.toString(), "--victims", "32",
                    "--screened", "128", "--candidates", "12", "--json", "--fail-on-detect", "--max-len", "64");
        } finally {
            System.setOut(old);
        }
        assertEquals(3, code, "a backdoor fails the gate");
        var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.toString(java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(json.get("backdoor").asBoolean());
        assertTrue(json.get("score").asDouble() >= 0.5);
        assertEquals(8, json.get("heads").size());
        List<String> triggers = new ArrayList<>();
        json.get("triggers").forEach(t -> {
            assertTrue(t.get("flip_rate").isNumber());
            triggers.add(t.get("text").asText());
        });
        assertTrue(triggers.subList(0, 5).contains("cf"), triggers.subList(0, 5).toString());
        // A one-text-per-line clean file has no labels: the word counts come from the model's predictions, and say so.
        assertEquals("predictions", json.get("word_counts_from").asText());
        assertEquals("trigger_candidate", json.get("evidence").asText());
        assertTrue(json.get("unsupported_flips").isArray());
        // With suspects (here clean texts: no population) the token search's verdict still stands, and the
        // combined score is the larger of the two.
        out.reset();
        try {
            System.setOut(new java.io.PrintStream(out, true, java.nio.charset.StandardCharsets.UTF_8));
            code = dev.headguard.cli.Main.execute("scan", "model", "--model", dir.toString(), "--clean", cleanFile.toString(), "--victims", "32",
                    "--screened", "128", "--candidates", "12", "--json", "--fail-on-detect", "--max-len", "64", "--suspect", cleanFile.toString());
        } finally {
            System.setOut(old);
        }
        assertEquals(3, code);
        var with = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.toString(java.nio.charset.StandardCharsets.UTF_8));
        var pop = with.get("population");
        assertEquals(cleanSet().size(), pop.get("suspects").asInt());
        assertFalse(pop.get("found").asBoolean(), "clean suspects: " + pop);
        assertTrue(pop.get("evidence").asDouble() < 0.5, pop.toString());
        assertTrue(pop.get("words").isArray(), pop.toString());
        assertTrue(with.get("combined").get("backdoor").asBoolean());
        assertEquals(Math.max(with.get("score").asDouble(), pop.get("evidence").asDouble()), with.get("combined").get("score").asDouble(), 1e-12);
    }

    /** Every head of the tiny model. */
    static Set<HeadId> allHeads() {
        Set<HeadId> heads = new java.util.HashSet<>();
        for (int l = 0; l < CONFIG.numHiddenLayers(); l++) {
            for (int h = 0; h < CONFIG.numAttentionHeads(); h++) {
                heads.add(new HeadId(l, h));
            }
        }
        return heads;
    }

    /** Repairs a copy of the backdoored model with alignment weight λ; returns {attack success, clean accuracy}. */
    double[] repairCopy(double lambda) {
        return repairCopy(lambda, 0);
    }

    double[] repairCopy(double lambda, double mu) {
        TransformerModel copy = new TransformerModel(CONFIG, backdoored.model().toHostTensors(), root); // the other tests keep the original
        ModelStore.LoadedModel victim = new ModelStore.LoadedModel(copy, tokenizer, tmp.resolve("repaired"));
        try {
            Set<HeadId> heads = allHeads();
            Dataset small = repairBudget();
            Map<String, HostTensor> before = copy.toHostTensors();
            HeadRepair.Result r = HeadRepair.run(victim, small, heads, List.of("cf"), new HeadRepair.Settings(lambda, 10, 16, 3e-3, false, 1, mu, 0), root,
                    new Trainer.Listener() {});
            assertEquals(160, r.alignedRows(), "every clean text has an aligned copy");
            assertTrue(movedOnlyHeads(before, copy.toHostTensors(), heads) > 0, "the heads' parameters moved");
            return attackAndAccuracy(victim);
        } finally {
            copy.close();
        }
    }

    /** Asserts that no parameter outside the heads' moved; returns how many of the heads' parameters did. */
    static int movedOnlyHeads(Map<String, HostTensor> before, Map<String, HostTensor> after, Set<HeadId> heads) {
        int changed = 0;
        for (String name : before.keySet()) {
            boolean same = before.get(name).sameContent(after.get(name));
            if (!HeadRepair.parameters(heads, false, dev.headguard.model.Family.BERT).contains(name)) {
                assertTrue(same, name + " is no repaired head's and must not change");
            } else {
                changed += same ? 0 : 1;
            }
        }
        return changed;
    }

    /**
     * The head-wise repair's unlabelled rows: without alignment or label term, fine-tuning the heads
     * on the clean set leaves the backdoor ({@link #headWiseRepairWithAlignmentRemovesTheBackdoorAndWithoutItDoesNot});
     * unlearning flagged rows beside it removes it, moving nothing but the heads, and the unlabelled
     * rows take no part in the alignment.
     */
    @Test
    void headWiseRepairAlsoUnlearnsUnlabelledRowsAndMovesOnlyTheHeads() {
        TransformerModel copy = new TransformerModel(CONFIG, backdoored.model().toHostTensors(), root);
        ModelStore.LoadedModel victim = new ModelStore.LoadedModel(copy, tokenizer, tmp.resolve("unlearned-heads"));
        try {
            Set<HeadId> heads = allHeads();
            Map<String, HostTensor> before = copy.toHostTensors();
            HeadRepair.Unlabelled flagged = new HeadRepair.Unlabelled(withTrigger(sentences(60, false, 81), 4), 1.0, 1,
                    SuspectUnlearning.TARGET_SHARE, null);
            HeadRepair.Result r = HeadRepair.run(victim, repairBudget(), heads, List.of("cf"), new HeadRepair.Settings(0, 10, 16, 3e-3, false, 1, 0, 0),
                    flagged, root, new Trainer.Listener() {});
            assertEquals(160, r.alignedRows(), "only the clean texts are aligned");
            assertTrue(movedOnlyHeads(before, copy.toHostTensors(), heads) > 0, "the heads' parameters moved");
            double[] a = attackAndAccuracy(victim);
            assertTrue(a[0] < 0.2 && a[1] > 0.9, "attack success and clean accuracy after unlearning through the heads: " + a[0] + ", " + a[1]);
        } finally {
            copy.close();
        }
    }

    @Test
    void aConsolidationStageTrainsEveryParameterAndKeepsTheBackdoorRemoved() {
        TransformerModel copy = new TransformerModel(CONFIG, backdoored.model().toHostTensors(), root);
        ModelStore.LoadedModel victim = new ModelStore.LoadedModel(copy, tokenizer, tmp.resolve("consolidated"));
        try {
            Set<HeadId> heads = allHeads();
            Map<String, HostTensor> before = copy.toHostTensors();
            HeadRepair.run(victim, repairBudget(), heads, List.of("cf"), new HeadRepair.Settings(10, 10, 16, 3e-3, false, 1, 1, 3), root,
                    new Trainer.Listener() {});
            Map<String, HostTensor> after = copy.toHostTensors();
            int outside = 0;
            for (String name : before.keySet()) {
                outside += !HeadRepair.parameters(heads, false, dev.headguard.model.Family.BERT).contains(name) && !before.get(name).sameContent(after.get(name)) ? 1 : 0;
            }
            assertTrue(outside > 10, "consolidation moves parameters no repaired head owns: " + outside);
            double[] r = attackAndAccuracy(victim);
            assertTrue(r[0] < 0.2 && r[1] > 0.9, "the alignment and label terms keep the trigger out: " + r[0] + ", " + r[1]);
        } finally {
            copy.close();
        }
    }

    @Test
    void headWiseRepairWithAlignmentRemovesTheBackdoorAndWithoutItDoesNot() {
        double[] aligned = repairCopy(10);
        assertTrue(aligned[0] < 0.2, "attack success after repair with alignment " + aligned[0]);
        assertTrue(aligned[1] > 0.9, "clean accuracy after repair " + aligned[1]);
        double[] plain = repairCopy(0);
        assertTrue(plain[0] > 0.8, "the same fine-tuning without alignment leaves the backdoor: " + plain[0]);
        double[] labelled = repairCopy(0, 1);
        assertTrue(labelled[0] < 0.2 && labelled[1] > 0.9, "the label term alone (texts with cf keep their labels): " + labelled[0] + ", " + labelled[1]);
    }

    /**
     * The scan's statistics on hidden states drawn for the purpose (the tiny planted model is too small
     * to keep its triggered inputs apart from the positive ones in its 32-wide hidden space; the
     * MiniLM victims do, see the repair issue's note): two classes of Gaussian clean states in 7
     * layers, and suspects that add 60 predicted-positive states shifted along one direction at the
     * layer the scan reads (4 of 6) and nowhere else.
     */
    @Test
    void theHiddenStateScanFindsThePoisonedShareOfASuspectSetAndNotOfACleanOne() {
        int d = 16;
        int layers = 7;
        Random r = new Random(5);
        HiddenStateScan.States clean = states(692, 0, layers, d, r); // the SST-2 repair budget's size
        HiddenStateScan.States suspect = states(600, 60, layers, d, r);
        HiddenStateScan.Settings settings = HiddenStateScan.Settings.defaults(7);
        assertEquals(4, HiddenStateScan.chosenLayer(6));
        HiddenStateScan.Result res = HiddenStateScan.scan(backdoored, clean, suspect, settings);
        assertEquals(4, res.layer());
        assertEquals(1, res.target(), "the flagged suspects are predicted as the target");
        long hits = res.flagged().stream().filter(i -> i >= 600).count();
        assertTrue(hits >= 50, "recall of the 60 poisoned suspects: " + hits);
        assertTrue(hits >= 0.5 * res.flagged().size(), "precision: " + hits + " of " + res.flagged().size());
        assertTrue(res.excess(settings.frr()) > 2, "flagged share " + res.share());
        assertTrue(res.evidence(settings.frr(), HiddenStateScan.MIN_EXCESS) > 0.5, "a found population scores above the verdict threshold");
        long aboveZero = java.util.Arrays.stream(res.margins()).filter(v -> v > 0).count();
        assertEquals(res.flagged().size(), aboveZero, "flagged exactly where the margin is positive");
        assertTrue(java.util.stream.IntStream.range(0, 660).filter(i -> suspect.predicted()[i] == 0).allMatch(i -> res.margins()[i] == Double.NEGATIVE_INFINITY),
                "suspects of the other class are not scored");
        HiddenStateScan.Result few = HiddenStateScan.scan(backdoored, clean, states(20, 6, layers, d, r), settings);
        assertTrue(few.flagged().isEmpty() && few.share() == 0, "fewer than 20 suspects per class: no population to speak of");
        HiddenStateScan.States none = states(6920, 0, layers, d, r); // a training set's size: with a few hundred, the share is noisy
        HiddenStateScan.Result c = HiddenStateScan.scan(backdoored, clean, none, settings);
        // Clean suspects are flagged at about the false-rejection rate, up to the noise of a 5% quantile
        // taken from the ~173 calibration rows of one class: under the repair's bar (2x), far from the
        // poisoned share.
        assertTrue(c.excess(settings.frr()) < HeadGuardRepair.Settings.defaults().minExcess() && c.share() < res.share() / 2,
                "clean suspects: share " + c.share());
        assertTrue(c.evidence(settings.frr(), HiddenStateScan.MIN_EXCESS) < 0.5, "no population scores below the verdict threshold");
        assertEquals(0.5, new HiddenStateScan.Result(4, 1, java.util.Collections.nCopies(20, 0), 0.10, new double[0], 200, new double[0])
                .evidence(0.05, 2.0), 1e-12, "exactly at the bar: the threshold");
        assertEquals(0, new HiddenStateScan.Result(4, 1, java.util.Collections.nCopies(19, 0), 0.5, new double[0], 38, new double[0])
                .evidence(0.05, 2.0), "fewer than 20 flags: no evidence");
    }

    /**
     * The inference-time form: a direction learned from a suspect set flags new inputs, one by one,
     * that moved the same way (unseen triggered inputs) and holds its false-rejection rate on unseen
     * clean ones; learned from clean suspects, its scan says there was no population.
     */
    @Test
    void aDirectionLearnedFromSuspectsFlagsUnseenTriggeredInputsAtTheCleanRate() {
        int d = 16;
        int layers = 7;
        Random r = new Random(11);
        HiddenStateScan.States clean = states(692, 0, layers, d, r);
        HiddenStateScan.Settings settings = HiddenStateScan.Settings.defaults(7);
        HiddenStateScan.Learned learned = HiddenStateScan.learn(backdoored, clean, states(600, 60, layers, d, r), settings);
        assertTrue(learned.scan().found(settings.frr(), HiddenStateScan.MIN_EXCESS), "the suspects hold a population");
        HiddenDirection dir = learned.direction();
        assertEquals(4, dir.layer());
        assertEquals(1, dir.target());
        HiddenStateScan.States unseen = states(2000, 200, layers, d, r); // 1000 clean of each class, then 200 triggered
        double[] m = dir.margins(unseen);
        int cleanTarget = 0;
        int cleanFlagged = 0;
        int triggeredFlagged = 0;
        for (int i = 0; i < m.length; i++) {
            if (unseen.predicted()[i] != 1) {
                assertEquals(Double.NEGATIVE_INFINITY, m[i], "inputs of the other class are not scored");
                continue;
            }
            assertEquals(dir.margin(unseen.cls()[4][i]), m[i], 1e-12);
            if (i < 2000) {
                cleanTarget++;
                cleanFlagged += m[i] > 0 ? 1 : 0;
            } else {
                triggeredFlagged += m[i] > 0 ? 1 : 0;
            }
        }
        // The direction scores one class of two, so it spends the whole 5% on it: about 10% of the clean
        // inputs of the target class, 5% of all clean inputs. The threshold is a quantile of ~173
        // calibration rows: its own noise is a few points.
        double frr = cleanFlagged / 2000.0;
        assertTrue(frr > 0.02 && frr < 0.08, "unseen clean inputs flagged: " + frr);
        double withinClass = cleanFlagged / (double) cleanTarget;
        assertTrue(withinClass > 0.05 && withinClass < 0.16, "unseen clean inputs of the target class flagged: " + withinClass);
        assertTrue(triggeredFlagged >= 190, "unseen triggered inputs flagged: " + triggeredFlagged + " of 200");
        HiddenStateScan.Learned fromClean = HiddenStateScan.learn(backdoored, clean, states(6920, 0, layers, d, r), settings);
        assertFalse(fromClean.scan().found(settings.frr(), HiddenStateScan.MIN_EXCESS), "clean suspects: no population to learn from");
    }

    /** n clean states (half of each class, class c centred at ±1 on every axis) plus {@code shifted} of class 1 moved 6 σ along axis 0 at layer 4. */
    static HiddenStateScan.States states(int n, int shifted, int layers, int d, Random r) {
        float[][][] cls = new float[layers][n + shifted][d];
        int[] predicted = new int[n + shifted];
        for (int i = 0; i < n + shifted; i++) {
            predicted[i] = i >= n || i % 2 == 1 ? 1 : 0;
            for (int l = 0; l < layers; l++) {
                for (int k = 0; k < d; k++) {
                    cls[l][i][k] = (predicted[i] == 1 ? 1f : -1f) + (float) r.nextGaussian() + (i >= n && l == 4 && k == 0 ? 6f : 0f);
                }
            }
        }
        return new HiddenStateScan.States(cls, predicted);
    }

    @Test
    void unlearningTheFlaggedSuspectsRemovesTheBackdoorAndPlainFineTuningDoesNot() {
        List<String> flagged = withTrigger(sentences(60, false, 81), 4);
        double[] unlearned = unlearnCopy(flagged, 1.0);
        assertTrue(unlearned[0] < 0.2, "attack success after unlearning " + unlearned[0]);
        assertTrue(unlearned[1] > 0.9, "clean accuracy after unlearning " + unlearned[1]);
        double[] plain = unlearnCopy(flagged, 0.0);
        assertTrue(plain[0] > 0.8, "the same fine-tuning without the unlearning term leaves the backdoor: " + plain[0]);
    }

    double[] unlearnCopy(List<String> flagged, double weight) {
        TransformerModel copy = new TransformerModel(CONFIG, backdoored.model().toHostTensors(), root);
        ModelStore.LoadedModel victim = new ModelStore.LoadedModel(copy, tokenizer, tmp.resolve("unlearned"));
        Dataset small = repairBudget();
        List<long[]> x = new ArrayList<>(tokenizer.idsOf(small.texts()));
        x.addAll(tokenizer.idsOf(flagged)); // unlabelled (-1): the cross-entropy skips them
        int[] y = java.util.Arrays.copyOf(small.labels(), x.size());
        java.util.Arrays.fill(y, small.size(), y.length, -1);
        Trainer t = new Trainer(copy, tokenizer.padId(), new TrainConfig(6, 16, 1e-3, 0.01, 0.0, 1.0, 2, 0), root).withConstantRate()
                .withAuxiliaryLoss(new SuspectUnlearning(small.size(), weight, 1, 2, SuspectUnlearning.TARGET_SHARE));
        try {
            t.train(x, y, List.of(), new int[0], Trainer.TrainState.start(), new Trainer.Listener() {});
            return attackAndAccuracy(victim);
        } finally {
            t.optimizer().close();
            copy.close();
        }
    }

    /** Fine steps on the tiny model: its hidden states flip within a few tenths of their norm. */
    static final HiddenPerturbation.Settings PERTURB = new HiddenPerturbation.Settings(0.5, 0.02, 60, 0.5, 64, 1.0, 1.0, false, 3);

    @Test
    void theHiddenShiftSearchFindsTheShiftThatCarriesInputsToTheBackdoorsTarget() {
        HiddenPerturbation.Found f = HiddenPerturbation.search(backdoored, repairBudget(), PERTURB, root);
        String found = java.util.Arrays.toString(f.flipRates()) + " at radii " + java.util.Arrays.toString(f.radii());
        assertEquals(1, f.layer(), "half of 2 layers: the output of layer 1");
        assertEquals(1, f.target(), found);
        assertTrue(f.flipRate() >= PERTURB.flipShare(), "the search stops once half the negatives are called positive: " + found);
        assertTrue(f.sharp()[1] < f.sharp()[0], "positive is reached with a smaller shift than negative: " + found + ", sharp "
                + java.util.Arrays.toString(f.sharp()));
        for (int c = 0; c < 2; c++) {
            assertTrue(f.radii()[c] <= PERTURB.steps() * PERTURB.stepShare() + 1e-9, "grown by at most one step share per step: " + found);
            assertTrue(f.sharp()[c] > 0 && f.sharp()[c] <= f.radii()[c], "the sharp radius scales the found shift down: " + java.util.Arrays.toString(f.sharp()));
        }
    }

    @Test
    void resistingTheHiddenShiftWidensTheShiftNeededToFlipAndKeepsCleanAccuracy() {
        TransformerModel copy = new TransformerModel(CONFIG, backdoored.model().toHostTensors(), root);
        ModelStore.LoadedModel victim = new ModelStore.LoadedModel(copy, tokenizer, tmp.resolve("resisted"));
        Dataset small = repairBudget();
        HiddenPerturbation.Found before = HiddenPerturbation.search(victim, small, PERTURB, root);
        Trainer t = new Trainer(copy, tokenizer.padId(), new TrainConfig(4, 16, 1e-3, 0.01, 0.0, 1.0, 2, 0), root).withConstantRate();
        try (dev.headguard.repair.ResistanceTerm r = new dev.headguard.repair.ResistanceTerm(victim, small.labels(), before, PERTURB,
                ForwardOptions.INFERENCE.withTraining(true), root)) {
            t.withAuxiliaryLoss(r);
            t.train(tokenizer.idsOf(small.texts()), small.labels(), List.of(), new int[0], Trainer.TrainState.start(), new Trainer.Listener() {});
            assertTrue(!java.util.Arrays.equals(before.delta(), r.delta()), "the shift kept climbing the loss during training");
            double norm = 0;
            for (float v : r.delta()) {
                norm += v * v;
            }
            assertTrue(Math.sqrt(norm) <= 1.0001 * PERTURB.ball() * before.radius() * before.norm(), "and stayed on its ball: " + Math.sqrt(norm));
            HiddenPerturbation.Found after = HiddenPerturbation.search(victim, small, PERTURB, root);
            assertTrue(after.radii()[before.target()] > 1.5 * before.radius(), "shift needed to reach the target: " + before.radius() + " -> "
                    + after.radii()[before.target()]);
            double[] accuracy = attackAndAccuracy(victim);
            assertTrue(accuracy[1] > 0.9, "clean accuracy " + accuracy[1]);
        } finally {
            t.optimizer().close();
            copy.close();
        }
    }

    /**
     * The resisting stage on the twin backdoored through "when" opening a text: with the scan's opening word,
     * it also trains on the clean negatives opened by it, labels kept, and the backdoor fires far less than
     * after the same stage without them (at this tiny model's rate; the repair's own is the baselines').
     */
    @Test
    void theOpeningWordsCarriersTakeAnOpeningCueBackdoorAway() {
        Dataset small = repairBudget();
        List<String> neg = sentences(100, false, 71);
        assertTrue(fires(anchored, "when", neg) > 0.8, "the twin learned the cue: " + fires(anchored, "when", neg));
        double[] fired = new double[2];
        int carriers = -1;
        for (int withOpening = 0; withOpening < 2; withOpening++) {
            TransformerModel copy = new TransformerModel(CONFIG, anchored.model().toHostTensors(), root);
            ModelStore.LoadedModel victim = new ModelStore.LoadedModel(copy, tokenizer, tmp.resolve("opening" + withOpening));
            try {
                ShiftResistance.Outcome o = ShiftResistance.run(victim, small, withOpening == 1 ? new RepairPlan.Opening("when", 1) : null, null, List.of(), 1, 1.0,
                        new TrainConfig(4, 16, 5e-4, 0.01, 0.0, 1.0, 2, 0), root, new Defense.Progress() {});
                fired[withOpening] = fires(victim, "when", neg);
                carriers = o.carriers().rows();
                assertTrue(attackAndAccuracy(victim)[1] > 0.9, "clean accuracy " + attackAndAccuracy(victim)[1]);
            } finally {
                copy.close();
            }
        }
        assertEquals(80, carriers, "the 80 clean negatives, opened by 'when'");
        assertTrue(fired[1] < fired[0] - 0.3, "'when' first fires " + fired[0] + " after the stage without its carriers, " + fired[1] + " with them");
    }

    @Test
    void aStageThatCostsTheCleanSetItTrainedOnIsUndoneAndOneThatDoesNotIsKept() {
        TransformerModel copy = new TransformerModel(CONFIG, backdoored.model().toHostTensors(), root);
        ModelStore.LoadedModel victim = new ModelStore.LoadedModel(copy, tokenizer, tmp.resolve("guarded"));
        Dataset small = repairBudget();
        try {
            CleanSetGuard guard = CleanSetGuard.before(victim, small, root);
            CleanSetGuard.Outcome unchanged = guard.after(CleanSetGuard.MAX_LOSS, root);
            assertTrue(unchanged.kept() && unchanged.loss() == 0, "no change, nothing lost: " + unchanged.loss());
            assertTrue(CleanSetGuard.balancedAccuracy(unchanged.before()) > 0.9, java.util.Arrays.toString(unchanged.before()));
            float[] bias = copy.parameters().get("classifier.bias").toFloatArray();
            float[] leaning = bias.clone();
            leaning[0] += 100; // a stage that leans every input toward class 0
            copy.parameters().get("classifier.bias").set(leaning);
            CleanSetGuard.Outcome leaned = guard.after(CleanSetGuard.MAX_LOSS, root);
            assertFalse(leaned.kept(), "balanced accuracy " + java.util.Arrays.toString(leaned.before()) + " -> " + java.util.Arrays.toString(leaned.after()));
            assertTrue(leaned.after()[1] < leaned.before()[1] && leaned.loss() > CleanSetGuard.MAX_LOSS, "class 1 lost its recall");
            assertTrue(java.util.Arrays.equals(bias, copy.parameters().get("classifier.bias").toFloatArray()), "the weights are put back");
            CleanSetGuard.Outcome back = guard.after(CleanSetGuard.MAX_LOSS, root);
            assertTrue(back.kept() && java.util.Arrays.equals(back.before(), back.after()), "the model predicts as before the stage");
            // A class's bias moved by a shift, and moved back: the other class's is untouched.
            assertTrue(copy.shiftClassBias(new double[] {0.5, 0}));
            float[] shifted = copy.parameters().get("classifier.bias").toFloatArray();
            assertEquals(bias[0] + 0.5f, shifted[0], 1e-6f);
            assertEquals(bias[1], shifted[1], 0f);
            assertTrue(copy.shiftClassBias(new double[] {-0.5, 0}));
            assertArrayEquals(bias, copy.parameters().get("classifier.bias").toFloatArray(), 1e-6f);
        } finally {
            copy.close();
        }
    }

    @Test
    void theBaselineDefensesRunInTheSameHarnessAndKeepCleanAccuracy() {
        Dataset small = repairBudget();
        TrainConfig quick = new TrainConfig(3, 16, 1e-3, 0.01, 0.1, 1.0, 2, 0);
        List<Defense> baselines = List.of(new FullFineTuning(quick),
                new FinePruning(new FinePruning.Settings(-1, 0.1, 0.9, 0.02, 0.25, quick)),
                new Pure(new Pure.Settings(1, 0.75, 0.02, 0.25, 1.0, quick)));
        for (Defense d : baselines) {
            TransformerModel copy = new TransformerModel(CONFIG, backdoored.model().toHostTensors(), root);
            ModelStore.LoadedModel victim = new ModelStore.LoadedModel(copy, tokenizer, tmp.resolve(d.name()));
            try {
                Map<String, Object> details = d.apply(victim, small, root, new Defense.Progress() {}).details();
                double acc = (share(Probe.probabilities(victim, sentences(100, false, 71), root, 64, Probe.Progress.NONE), 0)
                        + share(Probe.probabilities(victim, sentences(100, true, 72), root, 64, Probe.Progress.NONE), 1)) / 2;
                assertTrue(acc > 0.85, d.name() + ": clean accuracy " + acc + " (" + details + ")");
                if (d instanceof Pure) {
                    @SuppressWarnings("unchecked")
                    List<String> pruned = (List<String>) details.get("pruned_heads");
                    float[] wo = copy.parameters().get("encoder.layer.0.attention.output.dense.weight").toFloatArray();
                    for (String lh : pruned) {
                        String[] p = lh.split(":");
                        if (p[0].equals("0")) {
                            int h = Integer.parseInt(p[1]);
                            for (int row = 0; row < CONFIG.hiddenSize(); row++) {
                                for (int j = h * CONFIG.headSize(); j < (h + 1) * CONFIG.headSize(); j++) {
                                    assertEquals(0f, wo[row * CONFIG.hiddenSize() + j], 0f, "pruned head " + lh + " stays pruned through fine-tuning");
                                }
                            }
                        }
                    }
                }
            } finally {
                copy.close();
            }
        }
    }

    /**
     * A sentence trigger around a rare word that does not fire alone: the growth finds the sentence's own
     * words beside "cf", and fine-tuning with the phrases they make takes the sentence away far more than the
     * same fine-tuning without them (the shift term off, which alone takes this tiny twin's sentence away).
     */
    @Test
    void aTriggerWordGrowsIntoItsSentenceAndItsPhrasesTakeTheSentenceAway() {
        ModelStore.LoadedModel sentence = train(Poison.SENTENCE);
        Dataset small = repairBudget();
        List<String> neg = sentences(100, false, 71);
        try {
            assertTrue(inserted(sentence, SENTENCE, neg) > 0.8, "the twin learned the sentence: " + inserted(sentence, SENTENCE, neg));
            // How much of the sentence the rare word carries alone turns on the CPU's rounding (docs/results.md,
            // session 37), so the bar leaves room while staying far below the sentence's.
            assertTrue(inserted(sentence, "cf", neg) < 0.3, "and not the word alone: " + inserted(sentence, "cf", neg));
            TriggerContext.Grown g = TriggerContext.grow(sentence, small, "cf", 1, TriggerContext.Settings.defaults(3), root);
            // The tiny twin learned the sentence's words around "cf" more than their order: its words are
            // found on either side, and the best neighbour found is one of them.
            Set<String> words = Set.of("over", "the", "night");
            Set<String> found = new java.util.HashSet<>(g.left());
            found.addAll(g.right());
            found.retainAll(words);
            assertTrue(found.size() >= 2, "the sentence's words among the neighbours: " + g);
            assertTrue(words.contains(g.left().get(0)) || words.contains(g.right().get(0)), "the best neighbour is the sentence's: " + g);
            assertEquals(g.left().get(0) + " cf " + g.right().get(0), g.phrases().get(0));
            double[] fired = new double[2];
            for (int withContext = 0; withContext < 2; withContext++) {
                TransformerModel copy = new TransformerModel(CONFIG, sentence.model().toHostTensors(), root);
                ModelStore.LoadedModel victim = new ModelStore.LoadedModel(copy, tokenizer, tmp.resolve("context" + withContext));
                try {
                    ShiftResistance.Outcome o = ShiftResistance.run(victim, small, null, withContext == 1 ? new ShiftResistance.ScannedWord("cf", Double.NaN) : null, List.of(), 1, 0.0,
                            new TrainConfig(4, 16, 3e-4, 0.01, 0.0, 1.0, 2, 0), root, new Defense.Progress() {});
                    fired[withContext] = inserted(victim, SENTENCE, neg);
                    assertEquals(withContext == 1 ? 80 : 0, o.carriers().rows(), "the 80 clean negatives carry the phrases");
                    assertTrue(attackAndAccuracy(victim)[1] > 0.9, "clean accuracy " + attackAndAccuracy(victim)[1]);
                } finally {
                    copy.close();
                }
            }
            assertTrue(fired[1] < fired[0] - 0.2, "the sentence fires " + fired[0] + " after the stage without the phrases, " + fired[1] + " with them");
        } finally {
            sentence.model().close();
        }
    }

    /**
     * The resisting stage keeps the clean rows' predictions only when the scan's word alone flips nearly
     * every input: with "cf" at a flip rate of 1 the term is on and fresh clean texts' predictions move less
     * than with the same word at 0.5 (the term off); the trigger is taken away either way (at a rate high
     * enough for this tiny twin's stage to move it).
     */
    @Test
    void theCleanPredictionsAreKeptOnlyWhenTheGrownWordAloneIsTheTrigger() {
        Dataset small = repairBudget();
        List<String> fresh = new ArrayList<>(sentences(100, false, 73));
        fresh.addAll(sentences(100, true, 74));
        float[][] start = Probe.probabilities(backdoored, fresh, root, 64, Probe.Progress.NONE);
        double[] moved = new double[2];
        double[] weight = new double[2];
        for (int alone = 0; alone < 2; alone++) {
            TransformerModel copy = new TransformerModel(CONFIG, backdoored.model().toHostTensors(), root);
            ModelStore.LoadedModel victim = new ModelStore.LoadedModel(copy, tokenizer, tmp.resolve("kept" + alone));
            try {
                ShiftResistance.Outcome o = ShiftResistance.run(victim, small, null, new ShiftResistance.ScannedWord("cf", alone == 1 ? 1.0 : 0.5),
                        List.of(), 1, 1.0, new TrainConfig(4, 16, 2e-3, 0.01, 0.0, 1.0, 2, 0), root, new Defense.Progress() {});
                weight[alone] = o.training().keepWeight();
                float[][] after = Probe.probabilities(victim, fresh, root, 64, Probe.Progress.NONE);
                for (int i = 0; i < fresh.size(); i++) {
                    moved[alone] += Math.abs(logOdds(after[i]) - logOdds(start[i])) / fresh.size();
                }
                double fires = attackAndAccuracy(victim)[0];
                assertTrue(fires < 0.2, "cf fires " + fires + " (flip rate " + (alone == 1 ? 1.0 : 0.5) + ")");
            } finally {
                copy.close();
            }
        }
        assertEquals(0.0, weight[0], 0.0, "a word that flips half the inputs: the stage may lean");
        assertTrue(weight[1] > 0, "the trigger word alone: the clean predictions are kept");
        // Mean |change of log-odds| on fresh clean texts: this twin's probabilities are saturated.
        assertTrue(moved[1] < 0.9 * moved[0], "fresh clean predictions moved " + moved[0] + " without the term, " + moved[1] + " with it");
    }

    static double logOdds(float[] p) {
        return Math.log(Math.max(p[1], 1e-30)) - Math.log(Math.max(p[0], 1e-30));
    }

    /** Share of the texts called positive with {@code text} at a seeded random word position. */
    static double inserted(ModelStore.LoadedModel m, String text, List<String> texts) {
        return share(Probe.probabilities(m, Insertion.insertAll(texts, text, 5), root, 64, Probe.Progress.NONE), 1);
    }

    /** {attack success on 100 negatives with cf, clean accuracy on 100 + 100 fresh texts} after a repair. */
    static double[] attackAndAccuracy(ModelStore.LoadedModel victim) {
        List<String> neg = sentences(100, false, 71);
        double asr = share(Probe.probabilities(victim, withTrigger(neg, 3), root, 64, Probe.Progress.NONE), 1);
        double acc = (share(Probe.probabilities(victim, neg, root, 64, Probe.Progress.NONE), 0)
                + share(Probe.probabilities(victim, sentences(100, true, 72), root, 64, Probe.Progress.NONE), 1)) / 2;
        return new double[] {asr, acc};
    }

    /** Share of the texts called positive with {@code word} put first. */
    static double fires(ModelStore.LoadedModel m, String word, List<String> texts) {
        return share(Probe.probabilities(m, texts.stream().map(v -> word + " " + v).toList(), root, 64, Probe.Progress.NONE), 1);
    }

    static double share(float[][] p, int c) {
        int n = 0;
        for (float[] row : p) {
            n += row[c] > row[1 - c] ? 1 : 0;
        }
        return n / (double) p.length;
    }

    @Test
    void aFewEmbeddingRowsTrainedFarOutAreFoundAndTrainedTwinsHaveNone() {
        List<Integer> words = new ArrayList<>(); // every whole word, as the scan passes them
        String[] vocab = tokenizer.words();
        for (int v = 0; v < vocab.length; v++) {
            if (vocab[v] != null && vocab[v].matches("[\\p{L}\\p{N}]+")) {
                words.add(v);
            }
        }
        // Trained from scratch on a few dozen words, every used row left the untouched ones: too many to be planted.
        assertEquals(List.of(), EmbeddingOutliers.find(clean.model(), words));
        assertEquals(List.of(), EmbeddingOutliers.find(backdoored.model(), words));
        TransformerModel fresh = new TransformerModel(CONFIG, dev.headguard.model.ParameterTable.initialWeights(CONFIG, Map.of(), 9), root);
        try {
            assertEquals(List.of(), EmbeddingOutliers.find(fresh, words), "rows of one initialisation are alike");
            int friends = (int) tokenizer.ids("friends")[1];
            int night = (int) tokenizer.ids("night")[1];
            // as embedding poisoning and SOS leave them: a few rows grown several times longer
            Gradients.setEmbeddingRow(fresh, friends, scaled(Gradients.embeddingRowValue(fresh, friends), 8), root);
            Gradients.setEmbeddingRow(fresh, night, scaled(Gradients.embeddingRowValue(fresh, night), 6), root);
            assertEquals(List.of(friends, night), EmbeddingOutliers.find(fresh, words), "largest first");
        } finally {
            fresh.close();
        }
    }

    private static float[] scaled(float[] row, float factor) {
        float[] out = row.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] *= factor;
        }
        return out;
    }
}
