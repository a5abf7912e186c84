package dev.headguard.detect.search;

import dev.headguard.detect.attention.Probe;

import ai.djl.ndarray.NDManager;
import dev.headguard.model.io.ModelStore;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The check for triggers that leave the heads alone: a common word that, opening a clean input,
 * turns it to class c, although the clean texts that use the word are less often of class c than
 * clean texts in general.
 *
 * <p>Why: an implicit trigger (a syntactic template, a style) is learned from the poisoned
 * sentences' shape, and the shape has lexical anchors (the SynBkd template opens with a
 * subordinate clause, so "when" as the first word flips negative inputs), which the attention scan
 * barely flags. What gives it away is the clean data: the texts that use "when" are not mostly of
 * the class it flips to. A sentiment word flips as often, but the texts that contain it are of its
 * class (or it is too rare in the clean set to say, and then this check says nothing); a negation's
 * texts lean toward the class it turns to (figures in docs/how-it-works.md, "Evidence behind the
 * code's rules").
 *
 * <p>So for each of the {@link #TRIED} words the sweep ranks highest among those used at least
 * {@link #MIN_OCCURRENCES} times in the clean texts: n uses, k of them in texts of class c, and base
 * rate b (share of all clean texts of class c). Under a uniform prior the posterior of the word's
 * share of c is Beta(k+1, n−k+1); its probability of lying below b is the doubt that the word means
 * c. A word's score is its flip rate as the first word of the victims times {@link #contradiction}
 * of that doubt (2·doubt − 1, at least 0). A common word whose clean uses are label-neutral is not caught this way; an anchor
 * whose uses lean away from the target, as SynBkd's "when" does in SST-2, is.
 */
public final class UnsupportedFlips {
    private UnsupportedFlips() {}

    /**
     * Fewer uses than this and the clean texts say too little about a word: with 5, sentiment words used
     * 5 times in the SST-2 dev set, 3 of them in texts of the class they flip to ("energetic", "thrilling",
     * "loss"), were held against clean models (scores 0.12–0.20 with the doubt itself as the factor).
     */
    static final int MIN_OCCURRENCES = 10;

    /**
     * The common words tried: those the sweep ranks highest among the words the clean texts use often
     * enough. (Among all words the common ones are rare near the top: the SynBkd victim's "when" is at place 14
     * of 23,502 and the 6th of the words used 10 times or more; in a tiny model with untrained embeddings, thousands of words lie
     * between.)
     */
    static final int TRIED = 16;

    /**
     * Clean texts and the class each belongs to, the word counts' source: the defender's labels where the
     * clean file has them, else the model's own predictions. Labels are what to use: a backdoored model's
     * reading of natural text that carries its trigger's anchor leans toward the target itself (the SynBkd
     * victim calls 3 of the 5 texts using "when" in a 200-text sample of the SST-2 dev set positive; the
     * labels say 9 of the 27 in the whole dev set are), and the counts need more texts than the model has
     * to read (the labels cost no model pass, so every labelled row can count).
     *
     * @param labelled whether {@code classes} are labels (else predictions)
     */
    public record Evidence(List<String> texts, int[] classes, boolean labelled) {
        public Evidence {
            if (texts.size() != classes.length || texts.isEmpty()) {
                throw new IllegalArgumentException(texts.size() + " texts, " + classes.length + " classes");
            }
            texts = List.copyOf(texts);
        }

        /**
         * Every row of a clean file with integer labels the model knows (a 'sentence' and a 'label'
         * column); null when the file has no such labels (one text per line, named labels: which class
         * each is the model does not say, or a label the model has no class for). All rows: counting
         * words needs no model pass, and more texts count better.
         */
        public static Evidence ofLabelledFile(java.nio.file.Path clean, int numLabels) {
            dev.headguard.text.Dataset ds;
            try {
                ds = dev.headguard.text.DatasetReader.read(clean);
            } catch (dev.headguard.HeadGuardException e) {
                return null;
            }
            List<String> names = ds.labelNames();
            for (int i = 0; i < names.size(); i++) {
                if (!names.get(i).equals(String.valueOf(i)) || i >= numLabels) {
                    return null;
                }
            }
            return new Evidence(ds.texts(), ds.labels(), true);
        }
    }

    /**
     * @param uses        clean texts that contain the word
     * @param usesCalledC of them, the texts of class {@code target} (labelled so, or called so by the model)
     * @param baseRate    share of all clean texts of class {@code target}
     * @param doubt       posterior probability that texts using the word are less often {@code target} than the base rate
     * @param flipRate    share of victims called {@code target} with the word as their first word
     * @param score       flipRate × {@link #contradiction}(doubt)
     */
    public record Word(String text, int target, int uses, int usesCalledC, double baseRate, double doubt, double flipRate, double score) {}

    /**
     * @param evidence    clean texts and their classes, counted for each word
     * @param victims     clean texts the model does not call {@code c}
     * @param swept       the vocabulary's words in sweep order for {@code c} (most c-ward first)
     * @return the words scored, highest first
     */
    static List<Word> find(ModelStore.LoadedModel model, Evidence evidence, List<String> victims, List<String> swept, int c, NDManager root) {
        Map<String, int[]> uses = new HashMap<>(); // word -> {texts using it, of them of class c}
        int calledC = 0;
        List<String> clean = evidence.texts();
        int[] classes = evidence.classes();
        for (int i = 0; i < clean.size(); i++) {
            calledC += classes[i] == c ? 1 : 0;
            for (String w : wordsOf(clean.get(i))) {
                int[] u = uses.computeIfAbsent(w, k -> new int[2]);
                u[0]++;
                u[1] += classes[i] == c ? 1 : 0;
            }
        }
        double base = calledC / (double) clean.size();
        List<String> tried = new ArrayList<>();
        for (String w : swept) {
            int[] u = uses.get(w.toLowerCase(Locale.ROOT));
            if (u != null && u[0] >= MIN_OCCURRENCES && tried.size() < TRIED) {
                tried.add(w);
            }
        }
        if (tried.isEmpty()) {
            return List.of();
        }
        List<String> texts = new ArrayList<>(tried.size() * victims.size());
        for (String w : tried) {
            for (String v : victims) {
                texts.add(w + " " + v);
            }
        }
        float[][] p = Probe.probabilities(model, texts, root, 64, Probe.Progress.NONE);
        List<Word> out = new ArrayList<>();
        for (int k = 0; k < tried.size(); k++) {
            int flips = 0;
            for (int i = 0; i < victims.size(); i++) {
                flips += Probe.argMax(p[k * victims.size() + i]) == c ? 1 : 0;
            }
            int[] u = uses.get(tried.get(k).toLowerCase(Locale.ROOT));
            double doubt = betaCdf(base, u[1] + 1, u[0] - u[1] + 1);
            double flip = flips / (double) victims.size();
            out.add(new Word(tried.get(k), c, u[0], u[1], base, doubt, flip, flip * contradiction(doubt)));
        }
        out.sort(Comparator.comparingDouble(Word::score).reversed());
        return out;
    }

    /**
     * How strongly the clean texts contradict a flip toward c: 0 when they are as likely to lean toward c
     * as away from it (doubt ≤ ½, which includes knowing nothing), 1 when they surely lean away. Why not
     * the doubt itself: a word the data cannot place would then count half against the model.
     */
    static double contradiction(double doubt) {
        return Math.max(0, 2 * doubt - 1);
    }

    /** The lower-cased words used in at least {@link #MIN_OCCURRENCES} of the evidence's texts: the only ones {@link #find} tries. */
    static Set<String> commonWords(Evidence evidence) {
        Map<String, Integer> uses = new HashMap<>();
        for (String t : evidence.texts()) {
            for (String w : wordsOf(t)) {
                uses.merge(w, 1, Integer::sum);
            }
        }
        Set<String> out = new HashSet<>();
        uses.forEach((w, n) -> {
            if (n >= MIN_OCCURRENCES) {
                out.add(w);
            }
        });
        return out;
    }

    /** The distinct lower-cased whole words of a text (letters and digits, as the sweep's words are). */
    static Set<String> wordsOf(String text) {
        Set<String> out = new HashSet<>();
        for (String w : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
            if (!w.isEmpty()) {
                out.add(w);
            }
        }
        return out;
    }

    /**
     * P(X < x) for X ~ Beta(a, b) with whole a, b ≥ 1: the probability that at least a of a+b−1
     * Bernoulli(x) trials succeed (the order statistic identity), summed in log space.
     */
    static double betaCdf(double x, int a, int b) {
        if (x <= 0) {
            return 0;
        }
        if (x >= 1) {
            return 1;
        }
        int n = a + b - 1;
        double s = 0;
        for (int j = a; j <= n; j++) {
            s += Math.exp(logChoose(n, j) + j * Math.log(x) + (n - j) * Math.log1p(-x));
        }
        return Math.min(1, s);
    }

    private static double logChoose(int n, int k) {
        double s = 0;
        for (int i = 1; i <= k; i++) {
            s += Math.log(n - k + i) - Math.log(i);
        }
        return s;
    }
}
