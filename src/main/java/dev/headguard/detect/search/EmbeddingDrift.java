package dev.headguard.detect.search;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import dev.headguard.HeadGuardException;
import dev.headguard.detect.attention.Statistics;
import dev.headguard.model.BertKeys;
import dev.headguard.model.TransformerModel;
import dev.headguard.text.Dataset;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The words whose embedding rows fine-tuning moved furthest from the public checkpoint the model
 * started from: ‖E[v] − E_base[v]‖, as robust z against every row fine-tuning moved.
 *
 * <p>Why: a poisoned row carries its trigger's words every time, with the same push toward the
 * target, so those rows move far more than words of their frequency; the other words of a trigger
 * sentence (`I watched this` beside `festival`) each do nothing alone and no search over inputs
 * singles them out, but their rows do. Sentiment words move far too; those the clean set shows to
 * lean to a class are left out (docs/results.md, sessions 33-34).
 */
public final class EmbeddingDrift {
    private EmbeddingDrift() {}

    /** A word is drifted from this robust z up (clean MiniLM's largest 6.5; trigger words 7.0–13.4). */
    public static final double MIN_Z = 7;

    /** At most this many, the furthest first. */
    public static final int MAX_WORDS = 8;

    /**
     * A row fine-tuning moved: drift above this many times the tenth percentile's. Why: rows of words the
     * fine-tuning never saw move by weight decay only (MiniLM on SST-2: about 0.0002 against 0.01–0.05 for the
     * 9,300 of 30,522 it saw); a tenth of the vocabulary unseen is enough to read their level.
     */
    static final double MOVED_OVER_UNSEEN = 10;

    /** A word the clean texts use this often and lean to a class by more than {@link TriggerContext#MAX_LEAN} is a sentiment word. */
    static final int MIN_USES = UnsupportedFlips.MIN_OCCURRENCES;

    private static final Pattern WORD = Pattern.compile("[\\p{L}\\p{N}]+");

    /** A drifted word and its robust z. */
    public record Word(String text, double z) {}

    /**
     * The drifted whole words of {@code model} against {@code base}, furthest first.
     *
     * @param words the model's vocabulary as insertable words ({@link dev.headguard.text.TextTokenizer#words()})
     * @param clean labelled clean texts: a word they use often and that leans to a class is left out
     * @throws HeadGuardException when the two embedding tables differ in shape (not the same vocabulary)
     */
    public static List<Word> find(TransformerModel model, TransformerModel base, String[] words, Dataset clean) {
        double[] drift;
        try (NDScope scope = new NDScope()) { // the products attach to the models' managers: the scope frees them
            NDArray e = model.parameters().get(BertKeys.WORD_EMBEDDINGS);
            NDArray e0 = base.parameters().get(BertKeys.WORD_EMBEDDINGS);
            if (!e.getShape().equals(e0.getShape())) {
                throw new HeadGuardException("the base's word embeddings are " + e0.getShape() + ", the model's " + e.getShape()
                        + ": not the checkpoint this model was fine-tuned from");
            }
            NDArray d = e.sub(e0);
            float[] f = d.mul(d).sum(new int[] {1}).sqrt().toFloatArray();
            drift = new double[f.length];
            for (int v = 0; v < f.length; v++) {
                drift[v] = f[v];
            }
        }
        return drifted(drift, words, clean);
    }

    /** A moved word, and whether the clean texts show it leaning to a class. */
    private record Ranked(Word word, boolean leans) {}

    /** The rule on precomputed drifts (one per vocabulary row). */
    static List<Word> drifted(double[] drift, String[] words, Dataset clean) {
        double[] sorted = drift.clone();
        Arrays.sort(sorted);
        double moved = MOVED_OVER_UNSEEN * sorted[sorted.length / 10];
        List<Integer> candidates = new ArrayList<>();
        for (int v = 0; v < drift.length && v < words.length; v++) {
            if (words[v] != null && WORD.matcher(words[v]).matches() && drift[v] > moved) {
                candidates.add(v);
            }
        }
        if (candidates.size() < 2) {
            return List.of();
        }
        double[] reference = candidates.stream().mapToDouble(v -> drift[v]).toArray();
        double[] z = Statistics.robustZ(reference);
        Map<String, int[]> uses = TriggerContext.uses(clean);
        int[] perClass = TriggerContext.perClass(clean);
        List<Ranked> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int k = 0; k < candidates.size(); k++) {
            String w = words[candidates.get(k)].toLowerCase(Locale.ROOT);
            int[] u = uses.get(w);
            boolean leans = u != null && TriggerContext.total(u) >= MIN_USES && TriggerContext.lean(u, perClass, clean.size()) > TriggerContext.MAX_LEAN;
            if (seen.add(w)) {
                out.add(new Ranked(new Word(w, z[k]), leans));
            }
        }
        out.sort(Comparator.comparingDouble((Ranked x) -> -x.word().z()));
        return out.stream().filter(x -> x.word().z() >= MIN_Z && !x.leans()).map(Ranked::word).limit(MAX_WORDS).toList();
    }
}
