package dev.headguard.detect.baseline;

import dev.headguard.detect.attention.Probe;

import ai.djl.ndarray.NDManager;
import dev.headguard.model.io.ModelStore;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * STRIP (Gao et al. 2019; the text form of Gao et al. 2021, as in OpenBackdoor): perturb each
 * input several times by replacing a share of its words with words common in clean text, and
 * measure the entropy of the predictions. A trigger that survives the perturbation keeps forcing
 * the target label, so triggered inputs show low entropy. Score = −(mean entropy): higher is
 * more suspicious. A baseline: it knows nothing of attention.
 *
 * <p>On a decoder language model the prediction is the continuation: the entropy is that of the
 * next-token distribution at the perturbed prompt's end (a trigger that survives keeps forcing the
 * target's first token), averaged over the copies.
 */
public final class Strip {

    /**
     * @param copies     perturbed copies per input
     * @param swapRatio  share of an input's words replaced in each copy
     * @param pool       how many of the clean set's most frequent words replacements come from
     */
    public record Settings(int copies, double swapRatio, int pool, long seed) {
        public static Settings defaults() {
            return new Settings(8, 0.5, 200, 42);
        }
    }

    private final Settings settings;
    private final List<String> replacements;

    private Strip(Settings settings, List<String> replacements) {
        this.settings = settings;
        this.replacements = replacements;
    }

    /** Chooses replacement words from clean texts: the most frequent by document frequency (low tf-idf). */
    public static Strip fit(List<String> clean, Settings settings) {
        Map<String, Integer> df = new HashMap<>();
        for (String t : clean) {
            new java.util.HashSet<>(List.of(t.toLowerCase(Locale.ROOT).strip().split("\\s+"))).forEach(w -> {
                if (w.chars().anyMatch(Character::isLetter)) {
                    df.merge(w, 1, Integer::sum);
                }
            });
        }
        List<String> words = new ArrayList<>(df.keySet());
        words.sort((a, b) -> df.get(b) - df.get(a) != 0 ? df.get(b) - df.get(a) : a.compareTo(b));
        if (words.isEmpty()) {
            throw new IllegalArgumentException("the clean set has no words to perturb with");
        }
        return new Strip(settings, List.copyOf(words.subList(0, Math.min(settings.pool(), words.size()))));
    }

    /** The i-th input's k-th perturbed copy (seeded by input index and copy). */
    String perturb(String text, int i, int k) {
        Random r = new Random(settings.seed() * 1_000_003L + i * 131L + k);
        String[] w = text.strip().split("\\s+");
        int n = Math.max(1, (int) Math.round(settings.swapRatio() * w.length));
        List<Integer> pos = new ArrayList<>();
        for (int j = 0; j < w.length; j++) {
            pos.add(j);
        }
        java.util.Collections.shuffle(pos, r);
        for (int j = 0; j < Math.min(n, w.length); j++) {
            w[pos.get(j)] = replacements.get(r.nextInt(replacements.size()));
        }
        return String.join(" ", w);
    }

    public double[] scores(ModelStore.LoadedModel model, List<String> texts, NDManager root, int batchSize, Probe.Progress progress) {
        int k = settings.copies();
        List<String> copies = new ArrayList<>(texts.size() * k);
        for (int i = 0; i < texts.size(); i++) {
            for (int j = 0; j < k; j++) {
                copies.add(perturb(texts.get(i), i, j));
            }
        }
        Probe.Progress perInput = (done, total) -> progress.update(done / k, texts.size());
        double[] out = new double[texts.size()];
        if (model.model().config().family().decoder) {
            double[] h = Probe.nextTokenEntropies(model, copies, root, batchSize, perInput);
            for (int i = 0; i < texts.size(); i++) {
                double sum = 0;
                for (int j = 0; j < k; j++) {
                    sum += h[i * k + j];
                }
                out[i] = -sum / k;
            }
            return out;
        }
        float[][] p = Probe.probabilities(model, copies, root, batchSize, perInput);
        for (int i = 0; i < texts.size(); i++) {
            double h = 0;
            for (int j = 0; j < k; j++) {
                for (float q : p[i * k + j]) {
                    h -= q > 0 ? q * Math.log(q) : 0;
                }
            }
            out[i] = -h / k;
        }
        return out;
    }
}
