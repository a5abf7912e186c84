package dev.headguard.detect.search;

import dev.headguard.detect.attention.AttentionFeatures;
import dev.headguard.detect.attention.Probe;

import dev.headguard.HeadGuardException;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.TokenBatch;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Heads ranked by how much a trigger changes their similarity to the rest of their layer (in clean
 * standard deviations) times their normalised importance for the prediction: the scan's report of
 * which heads carry a backdoor, and the repair's choice of heads to fine-tune.
 */
public final class HeadRanking {
    private HeadRanking() {}

    /**
     * Heads ranked as {@link #rankHeads} does, for triggers known from elsewhere (e.g. recovered from
     * flagged inputs): each clean text gets one of them at a seeded random word position, and the
     * target is the class most of the triggered texts are given.
     */
    public static List<ModelScanner.Head> rankHeadsFor(ModelStore.LoadedModel model, List<String> cleanTexts, List<String> triggers, long seed,
                                          ai.djl.ndarray.NDManager root) {
        if (triggers.isEmpty() || cleanTexts.isEmpty()) {
            throw new HeadGuardException("ranking heads needs clean texts and at least one trigger");
        }
        List<String> triggered = new ArrayList<>();
        java.util.Random r = new java.util.Random(seed);
        for (int i = 0; i < cleanTexts.size(); i++) {
            triggered.add(dev.headguard.text.Insertion.insertAt(cleanTexts.get(i), triggers.get(i % triggers.size()), r));
        }
        int[] votes = new int[model.model().config().numLabels()];
        for (float[] p : Probe.probabilities(model, triggered, root, 32, Probe.Progress.NONE)) {
            votes[Probe.argMax(p)]++;
        }
        int target = 0;
        for (int c = 1; c < votes.length; c++) {
            target = votes[c] > votes[target] ? c : target;
        }
        return rankHeads(model, cleanTexts, triggered, target, root, new ArrayList<>());
    }

    /**
     * Heads ranked by how much the best candidate changes their similarity to the rest of their
     * layer (in clean standard deviations) times their normalised importance for the prediction.
     */
    static List<ModelScanner.Head> rankHeads(ModelStore.LoadedModel model, List<String> cleanTexts, List<String> triggeredTexts, int target,
                                ai.djl.ndarray.NDManager root, List<ModelScanner.Layer> layersOut) {
        List<long[]> ids = model.tokenizer().idsOf(triggeredTexts);
        float[][] importance = Gradients.headImportance(model.model(), TokenBatch.of(ids, model.tokenizer().padId()),
                logits -> Gradients.towardClass(logits, target), root);
        return rank(model, cleanTexts, triggeredTexts, importance, root, layersOut);
    }

    /** Clean prompts a decoder's heads are ranked on (the importance takes one backward pass each). */
    static final int CONTINUATION_PROMPTS = 32;

    /**
     * A decoder's heads under a candidate of the continuation search, ranked as {@link #rankHeads} does
     * on (at most {@value #CONTINUATION_PROMPTS}) clean prompts with the candidate put in at a seeded
     * random word position. A decoder has no class: the importance is taken toward the token the model
     * then predicts next, the first token of the continuation the candidate elicits.
     *
     * @return the heads, best first; the prompts with the candidate in
     */
    public static List<ModelScanner.Head> rankHeadsForContinuation(ModelStore.LoadedModel model, List<String> cleanPrompts, String candidate, long seed,
                                                                   ai.djl.ndarray.NDManager root, List<ModelScanner.Layer> layersOut, List<String> triggeredOut) {
        List<String> clean = cleanPrompts.subList(0, Math.min(CONTINUATION_PROMPTS, cleanPrompts.size()));
        java.util.Random r = new java.util.Random(seed);
        List<String> triggered = new ArrayList<>();
        for (String p : clean) {
            triggered.add(dev.headguard.text.Insertion.insertAt(p, candidate, r));
        }
        triggeredOut.addAll(triggered);
        int layers = model.model().config().numHiddenLayers();
        float[][] importance = new float[layers][model.model().config().numAttentionHeads()];
        for (long[] ids : model.tokenizer().idsOf(triggered)) { // one row each: the last position is the prompt's own
            float[][] one = Gradients.headImportanceOf(model.model(), TokenBatch.of(List.of(ids), model.tokenizer().padId()), out -> {
                ai.djl.ndarray.NDArray next = model.model().lmLogits(out.lastHiddenState().get(":, " + (ids.length - 1) + ", :")).logSoftmax(-1);
                long predicted = next.argMax(-1).toLongArray()[0];
                return next.get(":, " + predicted).neg().sum();
            }, root);
            for (int l = 0; l < layers; l++) {
                for (int h = 0; h < one[l].length; h++) {
                    importance[l][h] += one[l][h] / triggered.size();
                }
            }
        }
        return rank(model, clean, triggered, importance, root, layersOut);
    }

    /** The ranking itself: each head's similarity jump in clean standard deviations times its normalised importance. */
    private static List<ModelScanner.Head> rank(ModelStore.LoadedModel model, List<String> cleanTexts, List<String> triggeredTexts, float[][] importance,
                                                ai.djl.ndarray.NDManager root, List<ModelScanner.Layer> layersOut) {
        int layers = model.model().config().numHiddenLayers();
        int heads = model.model().config().numAttentionHeads();
        AttentionFeatures f = new AttentionFeatures(model.model().config(), java.util.EnumSet.of(AttentionFeatures.Family.LAYER_COSINE, AttentionFeatures.Family.HEAD_COSINE));
        Probe.Result c = Probe.run(model, cleanTexts, f, root, 32, Probe.Progress.NONE);
        Probe.Result t = Probe.run(model, triggeredTexts, f, root, 32, Probe.Progress.NONE);
        double maxImp = 1e-12;
        for (float[] row : importance) {
            for (float v : row) {
                maxImp = Math.max(maxImp, v);
            }
        }
        List<ModelScanner.Head> out = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            int li = f.index(AttentionFeatures.Family.LAYER_COSINE, l, 0);
            layersOut.add(new ModelScanner.Layer(l, columnMean(c.features(), li), columnMean(t.features(), li)));
            for (int h = 0; h < heads; h++) {
                int k = f.index(AttentionFeatures.Family.HEAD_COSINE, l, h);
                double mc = columnMean(c.features(), k);
                double mt = columnMean(t.features(), k);
                double sd = Math.max(1e-4, columnSd(c.features(), k, mc));
                double imp = importance[l][h] / maxImp;
                out.add(new ModelScanner.Head(l, h, mc, mt, importance[l][h], Math.abs(mt - mc) / sd * imp));
            }
        }
        out.sort(Comparator.comparingDouble(ModelScanner.Head::rankScore).reversed());
        return out;
    }

    private static double columnMean(float[][] x, int k) {
        double s = 0;
        for (float[] r : x) {
            s += r[k];
        }
        return s / Math.max(1, x.length);
    }

    private static double columnSd(float[][] x, int k, double mean) {
        double s = 0;
        for (float[] r : x) {
            s += (r[k] - mean) * (r[k] - mean);
        }
        return Math.sqrt(s / Math.max(1, x.length - 1));
    }
}
