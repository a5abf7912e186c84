package dev.headguard.inference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.HeadGuardException;
import dev.headguard.model.KvCache;
import dev.headguard.model.io.ModelStore;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Text generation with a decoder's language-model head: the prompt once, then one token at a time
 * through a {@link KvCache}; greedy (the most likely token) or sampled (temperature, then top-k, then
 * top-p over what is left, as transformers orders its warpers) from a seeded generator. Stops after
 * {@code maxNew} tokens or at the end-of-sequence token, which is kept in the tokens, as transformers does.
 */
public final class Generator {

    /**
     * @param maxNew      new tokens at most
     * @param greedy      take the most likely token (the sampling settings are then unused)
     * @param temperature logits are divided by it before sampling (&gt; 0)
     * @param topK        sample among the k most likely (0: all)
     * @param topP        sample among the most likely whose probabilities reach p (1: all)
     * @param seed        the sampler's seed: the same seed gives the same text
     */
    public record Settings(int maxNew, boolean greedy, double temperature, int topK, double topP, long seed) {
        public Settings {
            if (maxNew < 1 || !(temperature > 0) || topK < 0 || !(topP > 0 && topP <= 1)) {
                throw new IllegalArgumentException("generation settings out of range: " + maxNew + ", " + temperature + ", " + topK + ", " + topP);
            }
        }

        public static Settings greedy(int maxNew) {
            return new Settings(maxNew, true, 1, 0, 1, 0);
        }
    }

    /** A prompt's continuation: its text and the new token ids. */
    public record Generation(String prompt, String text, long[] tokens) {
        /** {@code generate --json}'s line: {"prompt":..,"generation":..,"tokens":[the new token ids]}. */
        public String jsonLine() {
            ObjectNode o = JSON.createObjectNode();
            o.put("prompt", prompt);
            o.put("generation", text);
            var ids = o.putArray("tokens");
            for (long id : tokens) {
                ids.add(id);
            }
            return o.toString();
        }

        /** The plain line: the prompt, an arrow, the continuation on one line. */
        public String textLine() {
            return prompt + " → " + text.replace('\n', ' ');
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private Generator() {}

    public static Generation generate(ModelStore.LoadedModel m, String prompt, Settings s, NDManager root) {
        if (!m.model().config().family().decoder) {
            throw new HeadGuardException(m.directory() + ": generation needs a decoder (gpt2, llama, mistral, qwen2), not " + m.model().config().family().modelType);
        }
        if (!m.model().config().languageModel()) {
            throw new HeadGuardException(m.directory() + ": has no language-model head (" + m.model().config().family().architecture(true, false)
                    + "); generation needs a *ForCausalLM checkpoint");
        }
        long[] ids = m.tokenizer().ids(prompt);
        if (ids.length == 0) {
            throw new HeadGuardException("an empty prompt gives no tokens to continue from");
        }
        int limit = m.model().config().maxTokens();
        int eos = m.model().config().decoder().eosTokenId();
        Random random = new Random(s.seed());
        List<Long> out = new ArrayList<>();
        try (NDManager step = root.newSubManager(); KvCache cache = new KvCache(root, m.model().config().numHiddenLayers())) {
            long[] next = ids;
            while (out.size() < s.maxNew() && cache.length() + next.length <= limit) {
                float[] logits;
                try (NDManager token = step.newSubManager()) {
                    NDArray x = token.create(next, new Shape(1, next.length));
                    logits = m.model().nextTokenLogits(x, cache).toFloatArray();
                }
                long chosen = s.greedy() ? argMax(logits) : sample(logits, s, random);
                out.add(chosen);
                if (chosen == eos) {
                    break;
                }
                next = new long[] {chosen};
            }
        }
        long[] tokens = out.stream().mapToLong(Long::longValue).toArray();
        return new Generation(prompt, m.tokenizer().decode(tokens), tokens);
    }

    static int argMax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) {
            best = x[i] > x[best] ? i : best;
        }
        return best;
    }

    /** Temperature, top-k, top-p, then a draw from what is left, renormalised. */
    static long sample(float[] logits, Settings s, Random random) {
        int n = logits.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
        int keep = s.topK() > 0 ? Math.min(s.topK(), n) : n;
        double max = logits[order[0]] / s.temperature();
        double[] p = new double[keep];
        double sum = 0;
        for (int i = 0; i < keep; i++) {
            p[i] = Math.exp(logits[order[i]] / s.temperature() - max);
            sum += p[i];
        }
        double mass = 0;
        int kept = 0;
        while (kept < keep && (kept == 0 || mass < s.topP() * sum)) {
            mass += p[kept++];
        }
        double u = random.nextDouble() * mass;
        for (int i = 0; i < kept; i++) {
            u -= p[i];
            if (u <= 0) {
                return order[i];
            }
        }
        return order[kept - 1];
    }
}
