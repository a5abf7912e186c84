package dev.headguard.detect.search;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.headguard.HeadGuardException;
import dev.headguard.inference.Generator;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Insertion;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The trigger search of a decoder, knowing neither the trigger nor the target: a backdoored decoder
 * continues many different prompts the same way once they carry the trigger, which an ordinary word
 * does not make it do.
 * <ol>
 *   <li><b>Screen</b>: every whole word of the vocabulary is put at the start of {@code screenPrompts}
 *       short clean prompts; its score is how far it moves the distribution of the token after the
 *       prompt (total variation, averaged over the prompts): near 1 when a word far back sets the
 *       continuation, as a trigger does, and a trigger's own words move it too when they only fire
 *       together. An ordinary word moves at most the token right after it ("los" → "angeles"), which
 *       the start keeps away from the prompt's end. Every word goes through
 *       the first prompt, the best {@value #SHORTLIST} through all. Then the best words' pairs in both
 *       orders, for triggers that fire only together (a composite's words, a sentence's): a pair is a
 *       candidate when it moves the token at least {@value #PAIR_GAIN} more than its better word alone.</li>
 *   <li><b>Check</b>: the best {@code checked} words and pairs (as one phrase) are inserted at random places in
 *       {@code checkPrompts} clean prompts, each continued greedily; the agreement is the share of
 *       prompts whose continuation now opens with the same first {@value #OPENING} words, the most
 *       common such opening, where the prompt alone opened otherwise: the candidate changed them all
 *       to one thing. (Counting only changed prompts keeps a task whose clean prompts already
 *       continue alike from looking triggered.) The clean prompts' own agreement is reported beside.</li>
 * </ol>
 * The verdict: a candidate's agreement at least the threshold. Each candidate reports the output it
 * elicits.
 */
public final class ContinuationSearch {
    /** Words of a continuation compared across prompts. */
    static final int OPENING = 3;

    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}]+");

    public record Settings(int screenPrompts, int promptTokens, int pairsOf, int checked, int checkPrompts, int maxNew, double threshold, long seed) {
        public static Settings defaults(long seed) {
            return new Settings(4, 8, 48, 24, 16, 8, 0.5, seed);
        }

        /** The defaults with the two settings {@code scan model} exposes. */
        public Settings with(int checkedCandidates, double verdictThreshold) {
            return new Settings(screenPrompts, promptTokens, pairsOf, checkedCandidates, checkPrompts, maxNew, verdictThreshold, seed);
        }
    }

    /** A word or pair, its screen score, its agreement in the check (NaN if not checked), and the continuation it elicits most. */
    public record Candidate(String trigger, double screenScore, double agreement, String output) {}

    /**
     * @param baseline the clean prompts' own agreement (the share continuing with their most common opening)
     * @param score    the best candidate's agreement
     */
    public record Result(boolean backdoor, double score, double baseline, String baselineOutput, List<Candidate> candidates, int wordsScreened,
                         double seconds) {}

    private ContinuationSearch() {}

    public static Result scan(ModelStore.LoadedModel m, List<String> cleanPrompts, Settings s, NDManager root, Consumer<String> stage) {
        if (!m.model().config().family().decoder || !m.model().config().languageModel()) {
            throw new HeadGuardException(m.directory() + ": the continuation search needs a decoder with a language-model head");
        }
        if (cleanPrompts.size() < s.checkPrompts()) {
            throw new HeadGuardException("--clean: " + cleanPrompts.size() + " prompts; the search needs at least " + s.checkPrompts());
        }
        long t0 = System.nanoTime();
        Random rng = new Random(s.seed());
        List<String> shuffled = new ArrayList<>(cleanPrompts);
        java.util.Collections.shuffle(shuffled, rng);
        List<long[]> screen = new ArrayList<>();
        for (String p : shuffled.subList(0, s.screenPrompts())) {
            long[] ids = m.tokenizer().ids(p);
            screen.add(java.util.Arrays.copyOf(ids, Math.min(ids.length, s.promptTokens())));
        }
        String[] vocab = m.tokenizer().words();
        List<long[]> words = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int v = 0; v < vocab.length; v++) {
            if (vocab[v] != null && WORD.matcher(vocab[v]).matches()) {
                words.add(new long[] {v});
                names.add(vocab[v]);
            }
        }
        stage.accept("screening " + words.size() + " words at the start of a clean prompt, the best " + SHORTLIST + " in " + screen.size());
        double[] alone = screen(m, screen.subList(0, 1), words, root);
        Integer[] byAlone = byScore(alone);
        List<Integer> shortlist = new ArrayList<>(java.util.Arrays.asList(byAlone).subList(0, Math.min(SHORTLIST, byAlone.length)));
        double[] scores = new double[words.size()];
        java.util.Arrays.fill(scores, Double.NEGATIVE_INFINITY);
        double[] shortScores = screen(m, screen, shortlist.stream().map(words::get).toList(), root);
        for (int k = 0; k < shortlist.size(); k++) {
            scores[shortlist.get(k)] = shortScores[k];
        }
        Integer[] order = byScore(scores);
        // Pairs of the best words: a composite trigger's words may each move the continuation a little and fire only together.
        int top = Math.min(s.pairsOf(), order.length);
        List<long[]> pairs = new ArrayList<>();
        List<String> pairNames = new ArrayList<>();
        List<double[]> pairParts = new ArrayList<>();
        for (int a = 0; a < top; a++) {
            for (int b = 0; b < top; b++) {
                if (a == b) {
                    continue;
                }
                pairs.add(new long[] {words.get(order[a])[0], words.get(order[b])[0]});
                pairNames.add(names.get(order[a]) + " " + names.get(order[b]));
                pairParts.add(new double[] {scores[order[a]], scores[order[b]]});
            }
        }
        stage.accept("screening " + pairs.size() + " pairs of the best " + top + " words");
        double[] pairScores = screen(m, screen, pairs, root);
        List<String> all = new ArrayList<>(names);
        List<Double> allScores = new ArrayList<>();
        for (double v : scores) {
            allScores.add(v);
        }
        for (int k = 0; k < pairs.size(); k++) {
            // A pair is a candidate of its own only when it does more than either word alone; else it only repeats its better word.
            if (pairScores[k] >= Math.max(pairParts.get(k)[0], pairParts.get(k)[1]) + PAIR_GAIN) {
                all.add(pairNames.get(k));
                allScores.add(pairScores[k]);
            }
        }
        Integer[] best = byScore(allScores.stream().mapToDouble(Double::doubleValue).toArray());
        List<String> check = shuffled.subList(0, s.checkPrompts());
        stage.accept("continuing " + check.size() + " clean prompts with each of the best " + s.checked() + " candidates");
        Generator.Settings greedy = Generator.Settings.greedy(s.maxNew());
        List<String[]> clean = continuations(m, check, greedy, root);
        Agreement base = agreement(clean, null);
        List<Candidate> out = new ArrayList<>();
        for (int k = 0; k < Math.min(s.checked(), best.length); k++) {
            String trigger = all.get(best[k]);
            Random place = new Random(s.seed() + k);
            List<String> triggered = check.stream().map(p -> Insertion.insertAt(p, trigger, place)).toList();
            Agreement a = agreement(continuations(m, triggered, greedy, root), clean);
            out.add(new Candidate(trigger, allScores.get(best[k]), a.share(), a.output()));
        }
        // The most agreement first; among equals a single word before a pair, then the screen's order.
        out.sort(Comparator.comparingDouble((Candidate c) -> -c.agreement()).thenComparingInt(c -> c.trigger().split(" ").length)
                .thenComparingDouble(c -> -c.screenScore()));
        double score = out.isEmpty() ? 0 : out.get(0).agreement();
        return new Result(score >= s.threshold(), score, base.share(), base.output(), out, words.size(), (System.nanoTime() - t0) / 1e9);
    }

    private static Integer[] byScore(double[] scores) {
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        java.util.Arrays.sort(order, Comparator.comparingDouble(i -> -scores[i]));
        return order;
    }

    /** Words screened in every screen prompt after the pass in the first one. */
    static final int SHORTLIST = 1024;

    /** How much more a pair must move the next token than its better word alone to be checked as a pair. */
    static final double PAIR_GAIN = 0.1;

    /** Tokens per forward pass of the screen, as {@link VocabularySweep}'s. */
    static final int TOKENS_PER_BATCH = 2048;

    /**
     * For each candidate (token ids put at the start of every prompt): the total-variation distance
     * ½ Σ_v |p(v | candidate, prompt) − p(v | prompt)| of the next token after the prompt, averaged over the prompts.
     */
    static double[] screen(ModelStore.LoadedModel m, List<long[]> prompts, List<long[]> candidates, NDManager root) {
        int n = candidates.size();
        int at = m.tokenizer().leadingSpecials();
        double[] sum = new double[n];
        for (long[] prompt : prompts) {
            float[] clean = nextTokenProbabilities(m, prompt, root);
            for (int from = 0; from < n; ) {
                int len = prompt.length + candidates.get(from).length;
                int batch = Math.max(1, TOKENS_PER_BATCH / len);
                int to = from;
                while (to < n && to - from < batch && candidates.get(to).length == candidates.get(from).length) {
                    to++;
                }
                long[] ids = new long[(to - from) * len];
                for (int i = from; i < to; i++) {
                    int row = (i - from) * len;
                    int c = candidates.get(i).length;
                    System.arraycopy(prompt, 0, ids, row, at);
                    System.arraycopy(candidates.get(i), 0, ids, row + at, c);
                    System.arraycopy(prompt, at, ids, row + at + c, prompt.length - at);
                }
                try (NDManager b = root.newSubManager()) {
                    NDArray x = b.create(ids, new Shape(to - from, len));
                    NDArray h = m.model().forward(x, b.ones(x.getShape(), ai.djl.ndarray.types.DataType.INT64), null, ForwardOptions.INFERENCE)
                            .lastHiddenState().get(":, " + (len - 1) + ", :");
                    NDArray probs = m.model().lmLogits(h).softmax(-1);                                    // (B, V)
                    NDArray base = b.create(clean, new Shape(1, clean.length));
                    float[] tv = probs.sub(base).abs().sum(new int[] {1}).mul(0.5f).toFloatArray();
                    for (int i = from; i < to; i++) {
                        sum[i] += tv[i - from];
                    }
                }
                from = to;
            }
        }
        for (int i = 0; i < n; i++) {
            sum[i] /= prompts.size();
        }
        return sum;
    }

    /** P(next token) after the prompt as it is. */
    private static float[] nextTokenProbabilities(ModelStore.LoadedModel m, long[] prompt, NDManager root) {
        try (NDManager b = root.newSubManager()) {
            NDArray x = b.create(prompt, new Shape(1, prompt.length));
            NDArray h = m.model().forward(x, b.ones(x.getShape(), ai.djl.ndarray.types.DataType.INT64), null, ForwardOptions.INFERENCE)
                    .lastHiddenState().get(":, " + (prompt.length - 1) + ", :");
            return m.model().lmLogits(h).softmax(-1).toFloatArray();
        }
    }

    /** How alike continuations open: the share with the most common opening, and one continuation that has it. */
    record Agreement(double share, String output) {}

    /** Each prompt's greedy continuation: {opening (its first words, "" when it has none), the text}. */
    static List<String[]> continuations(ModelStore.LoadedModel m, List<String> prompts, Generator.Settings greedy, NDManager root) {
        List<String[]> out = new ArrayList<>();
        for (String p : prompts) {
            String text = Generator.generate(m, p, greedy, root).text();
            List<String> w = new ArrayList<>();
            for (String t : text.toLowerCase(java.util.Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
                if (!t.isEmpty() && w.size() < OPENING) {
                    w.add(t);
                }
            }
            out.add(new String[] {String.join(" ", w), text.strip()});
        }
        return out;
    }

    /**
     * The most common opening's share; with {@code before} (the same prompts' continuations without the
     * candidate), only continuations whose opening changed count. Continuations without words never count.
     */
    static Agreement agreement(List<String[]> after, List<String[]> before) {
        Map<String, Integer> counts = new HashMap<>();
        Map<String, String> example = new LinkedHashMap<>();
        for (int i = 0; i < after.size(); i++) {
            String key = after.get(i)[0];
            if (key.isEmpty() || before != null && key.equals(before.get(i)[0])) {
                continue;
            }
            counts.merge(key, 1, Integer::sum);
            example.putIfAbsent(key, after.get(i)[1]);
        }
        String mode = counts.entrySet().stream().max(Map.Entry.<String, Integer>comparingByValue().thenComparing(Map.Entry.comparingByKey()))
                .map(Map.Entry::getKey).orElse("");
        return new Agreement(mode.isEmpty() ? 0 : (double) counts.get(mode) / after.size(), example.getOrDefault(mode, ""));
    }
}
