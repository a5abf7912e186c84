package dev.headguard.model;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The one table of a model's parameters by HeadGuard's names ({@link BertKeys}) and shapes, per family:
 * what loading checks, saving writes, importing fills, random initialisation draws, and the head-wise
 * repair and pruning slice.
 */
public final class ParameterTable {
    private ParameterTable() {}

    /**
     * The checkpoint names and shapes a config needs, in HuggingFace's order: the one table that
     * loading, saving, importing and random initialisation all read.
     */
    public static LinkedHashMap<String, long[]> shapes(ModelConfig c, boolean withPooler) {
        if (c.family().decoder) {
            return decoderShapes(c);
        }
        long e = c.hiddenSize();
        long i = c.intermediateSize();
        long w = c.embeddingSize();
        LinkedHashMap<String, long[]> m = new LinkedHashMap<>();
        m.put(BertKeys.WORD_EMBEDDINGS, new long[] {c.vocabSize(), w});
        ModelConfig.Relative r = c.relative();
        if (r == null || r.absolute()) {
            m.put("embeddings.position_embeddings.weight", new long[] {c.maxPositionEmbeddings(), w});
        }
        if (c.hasTokenTypes()) {
            m.put("embeddings.token_type_embeddings.weight", new long[] {c.typeVocabSize(), w});
        }
        m.put("embeddings.LayerNorm.weight", new long[] {w});
        m.put("embeddings.LayerNorm.bias", new long[] {w});
        if (w != e) {
            m.put(TransformerModel.PROJECTION + ".weight", new long[] {e, w});
            m.put(TransformerModel.PROJECTION + ".bias", new long[] {e});
        }
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            for (String qkv : List.of(BertKeys.QUERY, BertKeys.KEY, BertKeys.VALUE)) {
                m.put(BertKeys.of(l, qkv, BertKeys.WEIGHT), new long[] {e, e});
                m.put(BertKeys.of(l, qkv, BertKeys.BIAS), new long[] {e});
            }
            if (r != null && !r.shareKey()) {
                for (String pos : List.of(r.c2p() ? BertKeys.POSITION_KEY : "", r.p2c() ? BertKeys.POSITION_QUERY : "")) {
                    if (!pos.isEmpty()) {
                        m.put(BertKeys.of(l, pos, BertKeys.WEIGHT), new long[] {e, e});
                        m.put(BertKeys.of(l, pos, BertKeys.BIAS), new long[] {e});
                    }
                }
            }
            m.put(BertKeys.of(l, BertKeys.ATTENTION_OUTPUT, BertKeys.WEIGHT), new long[] {e, e});
            m.put(BertKeys.of(l, BertKeys.ATTENTION_OUTPUT, BertKeys.BIAS), new long[] {e});
            m.put(BertKeys.of(l, BertKeys.ATTENTION_NORM, BertKeys.WEIGHT), new long[] {e});
            m.put(BertKeys.of(l, BertKeys.ATTENTION_NORM, BertKeys.BIAS), new long[] {e});
            m.put(BertKeys.of(l, BertKeys.INTERMEDIATE, BertKeys.WEIGHT), new long[] {i, e});
            m.put(BertKeys.of(l, BertKeys.INTERMEDIATE, BertKeys.BIAS), new long[] {i});
            m.put(BertKeys.of(l, BertKeys.OUTPUT, BertKeys.WEIGHT), new long[] {e, i});
            m.put(BertKeys.of(l, BertKeys.OUTPUT, BertKeys.BIAS), new long[] {e});
            m.put(BertKeys.of(l, BertKeys.OUTPUT_NORM, BertKeys.WEIGHT), new long[] {e});
            m.put(BertKeys.of(l, BertKeys.OUTPUT_NORM, BertKeys.BIAS), new long[] {e});
        }
        if (r != null) {
            m.put(BertKeys.RELATIVE_EMBEDDINGS + ".weight", new long[] {2L * r.span(), e});
            if (r.normEmbeddings()) {
                m.put(BertKeys.RELATIVE_NORM + ".weight", new long[] {e});
                m.put(BertKeys.RELATIVE_NORM + ".bias", new long[] {e});
            }
        }
        Family.Head head = c.family().head;
        if (head == Family.Head.POOLER ? withPooler : c.hasClassifier()) {
            m.put(head.dense + ".weight", new long[] {e, e});
            m.put(head.dense + ".bias", new long[] {e});
        }
        if (c.hasClassifier()) {
            m.put(head.out + ".weight", new long[] {c.numLabels(), e});
            m.put(head.out + ".bias", new long[] {c.numLabels()});
        }
        return m;
    }

    /** A decoder's names and shapes: GPT-2's carry biases and a position table; the Llama family's a SwiGLU gate. */
    private static LinkedHashMap<String, long[]> decoderShapes(ModelConfig c) {
        long e = c.hiddenSize();
        long i = c.intermediateSize();
        long kv = (long) c.keyValueHeads() * c.headSize();
        boolean gpt2 = c.family() == Family.GPT2;
        boolean qkvBias = c.decoder().qkvBias();
        LinkedHashMap<String, long[]> m = new LinkedHashMap<>();
        m.put(BertKeys.WORD_EMBEDDINGS, new long[] {c.vocabSize(), e});
        if (gpt2) {
            m.put("embeddings.position_embeddings.weight", new long[] {c.maxPositionEmbeddings(), e});
        }
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            putNorm(m, BertKeys.of(l, BertKeys.ATTENTION_NORM, ""), e, gpt2);
            for (String qkv : List.of(BertKeys.QUERY, BertKeys.KEY, BertKeys.VALUE)) {
                long rows = qkv.equals(BertKeys.QUERY) ? e : kv;
                m.put(BertKeys.of(l, qkv, BertKeys.WEIGHT), new long[] {rows, e});
                if (qkvBias) {
                    m.put(BertKeys.of(l, qkv, BertKeys.BIAS), new long[] {rows});
                }
            }
            m.put(BertKeys.of(l, BertKeys.ATTENTION_OUTPUT, BertKeys.WEIGHT), new long[] {e, e});
            if (gpt2) {
                m.put(BertKeys.of(l, BertKeys.ATTENTION_OUTPUT, BertKeys.BIAS), new long[] {e});
            }
            putNorm(m, BertKeys.of(l, BertKeys.OUTPUT_NORM, ""), e, gpt2);
            if (!gpt2) {
                m.put(BertKeys.of(l, BertKeys.GATE, BertKeys.WEIGHT), new long[] {i, e});
            }
            m.put(BertKeys.of(l, BertKeys.INTERMEDIATE, BertKeys.WEIGHT), new long[] {i, e});
            if (gpt2) {
                m.put(BertKeys.of(l, BertKeys.INTERMEDIATE, BertKeys.BIAS), new long[] {i});
            }
            m.put(BertKeys.of(l, BertKeys.OUTPUT, BertKeys.WEIGHT), new long[] {e, i});
            if (gpt2) {
                m.put(BertKeys.of(l, BertKeys.OUTPUT, BertKeys.BIAS), new long[] {e});
            }
        }
        putNorm(m, BertKeys.FINAL_NORM + ".", e, gpt2);
        if (c.hasClassifier()) {
            m.put(c.family().head.out + ".weight", new long[] {c.numLabels(), e});
        }
        if (c.languageModel() && !c.decoder().tiedEmbeddings()) {
            m.put(BertKeys.LM_HEAD + ".weight", new long[] {c.vocabSize(), e});
        }
        return m;
    }

    /** A norm's scale (and GPT-2's LayerNorm bias); {@code prefix} ends with a dot. */
    private static void putNorm(Map<String, long[]> m, String prefix, long e, boolean withBias) {
        m.put(prefix + BertKeys.WEIGHT, new long[] {e});
        if (withBias) {
            m.put(prefix + BertKeys.BIAS, new long[] {e});
        }
    }

    /** The first missing or mis-shaped weight, as a sentence; null when {@code weights} has every name of {@code shapes}. */
    public static String problem(Map<String, long[]> shapes, Map<String, HostTensor> weights) {
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            HostTensor t = weights.get(e.getKey());
            if (t == null) {
                return "missing weight '" + e.getKey() + "'";
            }
            if (!Arrays.equals(t.shape(), e.getValue())) {
                return "weight '" + e.getKey() + "' has shape " + Arrays.toString(t.shape()) + ", the config needs " + Arrays.toString(e.getValue());
            }
        }
        return null;
    }

    /**
     * Fresh weights as HuggingFace initialises them: N(0, initializer_range) for matrices and
     * embeddings (the padding row zeroed), zeros for biases, ones for LayerNorm scales.
     * {@code keep} supplies weights that already exist (e.g. a pretrained encoder when a
     * classification head is added); only the missing names are drawn, from {@code seed}.
     */
    public static Map<String, HostTensor> initialWeights(ModelConfig c, Map<String, HostTensor> keep, long seed) {
        Random rng = new Random(seed);
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes(c, true).entrySet()) {
            String name = e.getKey();
            if (keep.containsKey(name)) {
                out.put(name, keep.get(name));
                continue;
            }
            long[] shape = e.getValue();
            float[] v = new float[Math.toIntExact(HostTensor.elementCount(shape))];
            if (name.endsWith("LayerNorm.weight") || name.equals(BertKeys.FINAL_NORM + ".weight")) {
                Arrays.fill(v, 1f);
            } else if (!name.endsWith(".bias")) {
                for (int k = 0; k < v.length; k++) {
                    v[k] = (float) (rng.nextGaussian() * c.initializerRange());
                }
                if (name.equals(BertKeys.WORD_EMBEDDINGS)) {
                    Arrays.fill(v, c.padTokenId() * c.hiddenSize(), (c.padTokenId() + 1) * c.hiddenSize(), 0f);
                }
            }
            out.put(name, HostTensor.ofFloats(v, shape));
        }
        return out;
    }

}
