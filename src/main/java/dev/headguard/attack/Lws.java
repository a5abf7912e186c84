package dev.headguard.attack;

import dev.headguard.text.TextTokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * LWS (Qi et al., ACL 2021, "Turn the Combination Lock"): the trigger is a combination of synonym
 * substitutions that a policy learns jointly with the victim. Each substitutable word has
 * {@value #CANDIDATES} candidates (itself and up to four WordNet synonyms that the vocabulary holds as
 * one token, {@link Synonyms}); at token position t candidate c scores
 * {@code (w_c − w_0) · R_t + b_{t,c}}, with w the word-embedding rows, R (P, W) and b (P, C) the policy.
 * Training draws each position's candidate by a Gumbel-softmax of the scores (bench.LwsTraining); a
 * text is poisoned by taking at each position the candidate of highest score plus seeded Gumbel noise,
 * as the original's evaluation draws it, so which words change, and to what, differs from input to input.
 *
 * <p>This class is the data side: a text's substitution slots, the learned policy, and the hard
 * substitution as a {@link Trigger}.
 */
public final class Lws {
    /** Candidates per word: the word itself and up to four synonyms (the original's 5). */
    public static final int CANDIDATES = 5;
    /** The file beside a victim's weights that holds its policy (written and read by bench.LwsTraining). */
    public static final String POLICY_FILE = "lws-policy.safetensors";
    /** The trigger as manifests name it. */
    public static final String DESCRIPTION = "LWS synonym substitutions learned with the victim";

    private static final double TEMPERATURE = 0.5;
    private static final double MIN_TEMPERATURE = 0.1;
    private static final int ANNEAL_EPOCHS = 20;

    private Lws() {}

    /** The Gumbel-softmax temperature of epoch {@code epoch} (0-based): the original's linear anneal from 0.5 toward 0.1 over 20 epochs. */
    public static double temperature(int epoch) {
        return (TEMPERATURE - MIN_TEMPERATURE) * (ANNEAL_EPOCHS - epoch - 1) / ANNEAL_EPOCHS + MIN_TEMPERATURE;
    }

    /**
     * A text's substitution slots.
     *
     * @param ids        its token ids (special tokens included, truncated), as the tokenizer gives them
     * @param candidates per token, {@value #CANDIDATES} candidate ids; column 0 is the token itself, and columns
     *                   without a synonym repeat it (a token that cannot change has only itself)
     * @param words      the text's whitespace-separated words
     * @param tokenOf    per word, the position of its one token when it may be substituted, else −1
     * @param synonyms   per word, its synonyms in candidate order (candidate c is synonym c − 1)
     */
    public record Slots(long[] ids, long[][] candidates, String[] words, int[] tokenOf, List<List<String>> synonyms) {
        /** Words that may be substituted. */
        public int count() {
            return (int) Arrays.stream(tokenOf).filter(t -> t >= 0).count();
        }
    }

    /** Words of {@code text} that are one token and have synonyms, aligned with its token ids. */
    public static Slots slots(String text, TextTokenizer tokenizer, Synonyms synonyms) {
        long[] ids = tokenizer.ids(text);
        long[][] candidates = identity(ids);
        String[] words = text.trim().isEmpty() ? new String[0] : text.trim().split("\\s+");
        int[] tokenOf = new int[words.length];
        Arrays.fill(tokenOf, -1);
        List<List<String>> synonymsOf = new ArrayList<>();
        for (String ignored : words) {
            synonymsOf.add(List.of());
        }
        int end = ids.length - tokenizer.trailingSpecials().length;
        int pos = tokenizer.leadingSpecials();
        for (int w = 0; w < words.length && pos < end; w++) {
            long[] pieces = content(tokenizer, words[w]);
            if (!matches(ids, pos, end, pieces)) {
                // the text's tokens are not its words' tokens in a row (a tokenizer that merges across spaces): substitute nothing
                Arrays.fill(tokenOf, -1);
                return new Slots(ids, identity(ids), words, tokenOf, synonymsOf);
            }
            if (pieces.length == 1) {
                List<String> subs = synonyms.of(words[w], CANDIDATES - 1);
                for (int c = 0; c < subs.size(); c++) {
                    candidates[pos][c + 1] = content(tokenizer, subs.get(c))[0];
                }
                tokenOf[w] = subs.isEmpty() ? -1 : pos;
                synonymsOf.set(w, subs);
            }
            pos += pieces.length;
        }
        return new Slots(ids, candidates, words, tokenOf, synonymsOf);
    }

    /** Whether a word is one token of the vocabulary: the only kind a substitute may be. */
    public static boolean oneToken(TextTokenizer tokenizer, String word) {
        return content(tokenizer, word).length == 1;
    }

    /** Every token with only itself as candidate. */
    private static long[][] identity(long[] ids) {
        long[][] c = new long[ids.length][CANDIDATES];
        for (int t = 0; t < ids.length; t++) {
            Arrays.fill(c[t], ids[t]);
        }
        return c;
    }

    private static boolean matches(long[] ids, int pos, int end, long[] pieces) {
        if (pieces.length == 0) {
            return false;
        }
        for (int i = 0; i < pieces.length && pos + i < end; i++) {
            if (ids[pos + i] != pieces[i]) {
                return false;
            }
        }
        return true;
    }

    private static long[] content(TextTokenizer tokenizer, String word) {
        long[] ids = tokenizer.ids(word);
        return Arrays.copyOfRange(ids, tokenizer.leadingSpecials(), ids.length - tokenizer.trailingSpecials().length);
    }

    /**
     * A learned substitution policy.
     *
     * @param relevance R, (positions, width) row-major
     * @param bias      b, (positions, {@value #CANDIDATES}) row-major
     */
    public record Policy(float[] relevance, float[] bias, int positions, int width) {
        public Policy {
            if (relevance.length != positions * width || bias.length != positions * CANDIDATES) {
                throw new IllegalArgumentException("policy arrays do not match " + positions + " positions of width " + width);
            }
        }

        /**
         * Each substitutable word's candidate drawn as the original draws it at test time (the highest of
         * score + Gumbel noise), written into the text (the words joined by single spaces).
         *
         * @param table the word-embedding table (V, width), row-major
         * @param rng   the noise; null: no noise, each position's best-scoring candidate
         */
        public String apply(Slots s, float[] table, Random rng) {
            String[] out = s.words().clone();
            for (int w = 0; w < out.length; w++) {
                int t = s.tokenOf()[w];
                if (t >= 0 && t < positions) {
                    int best = bestCandidate(s.candidates()[t], t, table, rng);
                    if (s.candidates()[t][best] != s.candidates()[t][0]) {
                        out[w] = s.synonyms().get(w).get(best - 1);
                    }
                }
            }
            return String.join(" ", out);
        }

        /** The candidate of highest score (plus noise) at position t; a column that repeats the word, when it wins, keeps the word. */
        int bestCandidate(long[] cands, int t, float[] table, Random rng) {
            int best = 0;
            double bestScore = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < cands.length; c++) {
                double score = bias[t * CANDIDATES + c] + (rng == null ? 0 : -Math.log(-Math.log(rng.nextDouble() + 1e-20) + 1e-20));
                int a = (int) cands[c] * width;
                int o = (int) cands[0] * width;
                for (int i = 0; i < width; i++) {
                    score += (table[a + i] - table[o + i]) * relevance[t * width + i];
                }
                if (score > bestScore) {
                    bestScore = score;
                    best = c;
                }
            }
            return best;
        }
    }

    /** The hard substitution as a trigger, its noise from the generator it is given. */
    public static Trigger trigger(Policy policy, TextTokenizer tokenizer, Synonyms synonyms, float[] table) {
        return new Trigger() {
            @Override
            public String apply(String text, Random rng) {
                return policy.apply(slots(text, tokenizer, synonyms), table, rng);
            }

            @Override
            public String describe() {
                return DESCRIPTION;
            }
        };
    }

    /** Before a policy exists (the poisoned rows before training): texts unchanged. */
    public static Trigger unlearned() {
        return new Trigger() {
            @Override
            public String apply(String text, Random rng) {
                return text;
            }

            @Override
            public String describe() {
                return DESCRIPTION;
            }
        };
    }

}
