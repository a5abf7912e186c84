package dev.headguard.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.nn.norm.LayerNorm;
import dev.headguard.model.HostTensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A BERT encoder with an optional pooler and sequence-classification head, equal to HuggingFace's
 * {@code BertModel} / {@code BertForSequenceClassification} in float32, written on DJL NDArray
 * operations so that every head's attention can be read, scaled and trained on its own.
 *
 * <p>Shape letters: B batch, T tokens, E hidden size, N heads, H head size (E = N·H),
 * I intermediate size, V vocabulary, P positions, C classes, L layers.
 *
 * <p>Parameters are kept by their checkpoint names (without the {@code bert.} prefix that
 * {@code BertForSequenceClassification} adds), so loading and saving are a name match; see
 * {@link #parameterShapes}. The model owns one NDManager for its parameters; a forward pass
 * creates its intermediates in an {@link NDScope} and hands its outputs to the manager of the
 * input ids, so a caller that closes a per-batch manager runs in flat memory.
 */
public final class BertModel implements AutoCloseable {
    /** ELECTRA's projection from the embedding width up to the encoder's. */
    public static final String PROJECTION = "embeddings_project";

    /** Added to the attention scores of padding keys: torch.finfo(float32).min, as HuggingFace does. */
    private static final float MASKED_SCORE = -Float.MAX_VALUE;

    private final BertConfig config;
    private final NDManager manager;
    private final LinkedHashMap<String, NDArray> parameters;
    private final Embeddings embeddings;
    private final List<Layer> layers;
    private final ClassificationHead head;

    /**
     * Builds a model from named weights, checking that every name the config needs is present
     * with its exact shape ({@link #parameterShapes}); the pooler is optional unless there is a
     * classification head. Weights are converted to float32.
     */
    public BertModel(BertConfig config, Map<String, HostTensor> weights, NDManager parent) {
        this.config = config;
        boolean withPooler = config.hasClassifier() || weights.containsKey("pooler.dense.weight");
        Map<String, long[]> shapes = parameterShapes(config, withPooler);
        String problem = weightProblem(shapes, weights);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        this.manager = parent.newSubManager();
        this.parameters = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            NDArray a = manager.create(weights.get(e.getKey()).toFloats(), new Shape(e.getValue()));
            a.setName(e.getKey());
            NDScope.unregister(a); // parameters outlive any scope the caller has open
            parameters.put(e.getKey(), a);
        }
        this.embeddings = new Embeddings(config, parameters);
        List<Layer> ls = new ArrayList<>();
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            ls.add(new Layer(config, i, parameters));
        }
        this.layers = List.copyOf(ls);
        this.head = parameters.containsKey(config.family().head.dense + ".weight") ? new ClassificationHead(config, parameters) : null;
    }

    /**
     * The checkpoint names and shapes a config needs, in HuggingFace's order: the one table that
     * loading, saving, importing and random initialisation all read.
     */
    public static LinkedHashMap<String, long[]> parameterShapes(BertConfig c, boolean withPooler) {
        long e = c.hiddenSize();
        long i = c.intermediateSize();
        long w = c.embeddingSize();
        LinkedHashMap<String, long[]> m = new LinkedHashMap<>();
        m.put("embeddings.word_embeddings.weight", new long[] {c.vocabSize(), w});
        m.put("embeddings.position_embeddings.weight", new long[] {c.maxPositionEmbeddings(), w});
        if (c.family().hasTokenTypes()) {
            m.put("embeddings.token_type_embeddings.weight", new long[] {c.typeVocabSize(), w});
        }
        m.put("embeddings.LayerNorm.weight", new long[] {w});
        m.put("embeddings.LayerNorm.bias", new long[] {w});
        if (w != e) {
            m.put(PROJECTION + ".weight", new long[] {e, w});
            m.put(PROJECTION + ".bias", new long[] {e});
        }
        for (int l = 0; l < c.numHiddenLayers(); l++) {
            for (String qkv : List.of(BertKeys.QUERY, BertKeys.KEY, BertKeys.VALUE)) {
                m.put(BertKeys.of(l, qkv, BertKeys.WEIGHT), new long[] {e, e});
                m.put(BertKeys.of(l, qkv, BertKeys.BIAS), new long[] {e});
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

    /** The first missing or mis-shaped weight, as a sentence; null when {@code weights} has every name of {@code shapes}. */
    public static String weightProblem(Map<String, long[]> shapes, Map<String, HostTensor> weights) {
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
    public static Map<String, HostTensor> initialWeights(BertConfig c, Map<String, HostTensor> keep, long seed) {
        Random rng = new Random(seed);
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : parameterShapes(c, true).entrySet()) {
            String name = e.getKey();
            if (keep.containsKey(name)) {
                out.put(name, keep.get(name));
                continue;
            }
            long[] shape = e.getValue();
            float[] v = new float[Math.toIntExact(HostTensor.elementCount(shape))];
            if (name.endsWith("LayerNorm.weight")) {
                Arrays.fill(v, 1f);
            } else if (!name.endsWith(".bias")) {
                for (int k = 0; k < v.length; k++) {
                    v[k] = (float) (rng.nextGaussian() * c.initializerRange());
                }
                if (name.equals("embeddings.word_embeddings.weight")) {
                    Arrays.fill(v, c.padTokenId() * c.hiddenSize(), (c.padTokenId() + 1) * c.hiddenSize(), 0f);
                }
            }
            out.put(name, HostTensor.ofFloats(v, shape));
        }
        return out;
    }

    public BertConfig config() {
        return config;
    }

    /** The live parameters by checkpoint name. Changing one changes the model. */
    public Map<String, NDArray> parameters() {
        return Collections.unmodifiableMap(parameters);
    }

    public boolean hasPooler() {
        return head != null && head.dense != null;
    }

    /** Overwrites parameters in place from host tensors of the same names and shapes (a checkpoint being restored). */
    public void loadWeights(Map<String, HostTensor> weights) {
        String problem = weightProblem(parameterShapes(config, hasPooler()), weights);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        parameters.forEach((name, a) -> a.set(weights.get(name).toFloats()));
    }

    /** A copy of every parameter in Java memory, by checkpoint name: what a save writes. */
    public Map<String, HostTensor> toHostTensors() {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        parameters.forEach((name, a) -> out.put(name, HostTensor.ofFloats(a.toFloatArray(), a.getShape().getShape())));
        return out;
    }

    /**
     * Runs the encoder.
     *
     * @param inputIds      (B, T) int64 token ids
     * @param attentionMask (B, T) 1 for real tokens, 0 for padding (any numeric type)
     * @param tokenTypeIds  (B, T) int64 segment ids, or null for all zeros
     */
    public BertOutput forward(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds, ForwardOptions options) {
        Shape s = inputIds.getShape();
        if (s.dimension() != 2) {
            throw new IllegalArgumentException("input ids must be (B, T), got " + s);
        }
        if (s.get(1) > config.maxTokens()) {
            throw new IllegalArgumentException(s.get(1) + " tokens exceed the model's " + config.maxTokens() + " positions");
        }
        NDManager out = inputIds.getManager();
        try (NDScope ignored = new NDScope()) {
            NDArray mask = attentionMask.toType(DataType.FLOAT32, false);                         // (B, T)
            // Padding keys get the most negative score, so softmax gives them exactly zero.
            NDArray maskBias = mask.neg().add(1f).mul(MASKED_SCORE).expandDims(1).expandDims(1); // (B, 1, 1, T)
            NDArray queryMask = options.attentions() ? mask.expandDims(1).expandDims(3) : null; // (B, 1, T, 1)

            NDArray x = embeddings.forward(inputIds, tokenTypeIds, options.training());         // (B, T, E)
            if (options.shiftLayer() == 0) {
                x = shifted(x, mask, options);
            }
            List<NDArray> hidden = new ArrayList<>();
            List<NDArray> attentions = new ArrayList<>();
            List<NDArray> intermediates = new ArrayList<>();
            if (options.hiddenStates()) {
                hidden.add(x);
            }
            for (Layer layer : layers) {
                NDArray scale = options.headScale() == null ? null
                        : options.headScale().get(layer.index).reshape(1, config.numAttentionHeads(), 1, 1); // (1, N, 1, 1)
                Layer.Result r = layer.forward(x, maskBias, scale, options.trainableHeads(), options.training());
                x = r.output;
                if (layer.index + 1 == options.shiftLayer()) {
                    x = shifted(x, mask, options);
                }
                if (options.hiddenStates()) {
                    hidden.add(x);
                }
                if (options.attentions()) {
                    attentions.add(r.probs.mul(queryMask)); // zero the rows of padding queries too
                }
                if (options.intermediates()) {
                    intermediates.add(r.inner);
                }
            }
            NDArray pooled = head == null ? null : head.pooled(x, options.training());
            NDArray logits = head == null || head.out == null ? null : head.logits(pooled, options.training());
            BertOutput result = new BertOutput(x, pooled, logits, hidden, attentions, intermediates);
            keep(out, x, pooled, logits);
            hidden.forEach(a -> keep(out, a));
            attentions.forEach(a -> keep(out, a));
            intermediates.forEach(a -> keep(out, a));
            return result;
        }
    }

    /** x + δ on every real token: the options' hidden shift (one δ for all texts, or one per text). */
    private static NDArray shifted(NDArray x, NDArray mask, ForwardOptions options) {
        NDArray shift = options.shift().getShape().dimension() == 2 ? options.shift().expandDims(1) : options.shift().reshape(1, 1, -1); // (B or 1, 1, E)
        return x.add(mask.expandDims(2).mul(shift));
    }

    /** Moves results out of the scope that frees the intermediates, into the caller's manager. */
    private static void keep(NDManager target, NDArray... arrays) {
        for (NDArray a : arrays) {
            if (a != null) {
                NDScope.unregister(a);
                a.attach(target);
            }
        }
    }

    /** Mean of the last hidden state over real tokens: the sentence embedding of sentence-transformers. (B, E) */
    public static NDArray meanPool(NDArray lastHiddenState, NDArray attentionMask) {
        NDArray m = attentionMask.toType(DataType.FLOAT32, false).expandDims(2); // (B, T, 1)
        NDArray sum = lastHiddenState.mul(m).sum(new int[] {1});                    // (B, E)
        return sum.div(m.sum(new int[] {1}).maximum(1e-9f));
    }

    @Override
    public void close() {
        manager.close();
    }

    private static NDArray dropout(NDArray x, double p, boolean training) {
        return training && p > 0 ? Dropout.dropout(x, (float) p, true).singletonOrThrow() : x;
    }

    private static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        return Linear.linear(x, weight, bias).singletonOrThrow();
    }

    private static NDArray layerNorm(NDArray x, NDArray gamma, NDArray beta, double eps) {
        return LayerNorm.layerNorm(x, new Shape(x.getShape().get(x.getShape().dimension() - 1)), gamma, beta, (float) eps).singletonOrThrow();
    }

    /**
     * x = LayerNorm(word[ids] + position[pos] + type[types]), then ELECTRA's projection when its
     * embeddings are narrower. pos is 0..T, or for RoBERTa pad+1.. over real tokens and pad on padding.
     */
    private static final class Embeddings {
        final BertConfig c;
        final NDArray word;      // (V, W), W the embedding width (E but for ELECTRA)
        final NDArray position;  // (P, W)
        final NDArray tokenType; // (types, W), or null (DistilBERT)
        final NDArray lnWeight;  // (W)
        final NDArray lnBias;    // (W)
        final NDArray projWeight, projBias; // (E, W), (E), or null

        Embeddings(BertConfig c, Map<String, NDArray> p) {
            this.c = c;
            word = p.get("embeddings.word_embeddings.weight");
            position = p.get("embeddings.position_embeddings.weight");
            tokenType = p.get("embeddings.token_type_embeddings.weight");
            lnWeight = p.get("embeddings.LayerNorm.weight");
            lnBias = p.get("embeddings.LayerNorm.bias");
            projWeight = p.get(PROJECTION + ".weight");
            projBias = p.get(PROJECTION + ".bias");
        }

        NDArray forward(NDArray ids, NDArray types, boolean training) {
            long t = ids.getShape().get(1);
            NDManager m = ids.getManager();
            NDArray positions;
            if (c.family().positionsPastPadding()) {
                NDArray real = ids.neq(c.padTokenId()).toType(DataType.INT64, false);               // (B, T)
                positions = real.cumSum(1).mul(real).add(c.padTokenId());                          // (B, T)
            } else {
                positions = m.arange(0, t, 1, DataType.INT64);                                     // (T)
            }
            NDArray x = Embedding.embedding(ids, word, SparseFormat.DENSE).singletonOrThrow()    // (B, T, W)
                    .add(Embedding.embedding(positions, position, SparseFormat.DENSE).singletonOrThrow()); // + (T or B·T, W)
            if (tokenType != null) {
                NDArray typeIds = types == null ? m.zeros(ids.getShape(), DataType.INT64) : types;
                x = x.add(Embedding.embedding(typeIds, tokenType, SparseFormat.DENSE).singletonOrThrow()); // + (B, T, W)
            }
            x = dropout(layerNorm(x, lnWeight, lnBias, c.layerNormEps()), c.hiddenDropoutProb(), training);
            return projWeight == null ? x : linear(x, projWeight, projBias);                        // (B, T, E)
        }
    }

    /** One transformer block: self-attention, then feed-forward, each with a residual and LayerNorm (post-LN). */
    private static final class Layer {
        record Result(NDArray output, NDArray probs, NDArray inner) {}

        final BertConfig c;
        final int index;
        final NDArray wq, bq, wk, bk, wv, bv; // (E, E), (E): rows h·H..(h+1)·H belong to head h
        final NDArray wo, bo;                 // (E, E), (E): columns h·H..(h+1)·H read head h
        final NDArray ln1Weight, ln1Bias;     // (E)
        final NDArray wi, bi;                 // (I, E), (I)
        final NDArray wOut, bOut;             // (E, I), (E)
        final NDArray ln2Weight, ln2Bias;     // (E)

        Layer(BertConfig c, int index, Map<String, NDArray> p) {
            this.c = c;
            this.index = index;
            wq = p.get(BertKeys.of(index, BertKeys.QUERY, BertKeys.WEIGHT));
            bq = p.get(BertKeys.of(index, BertKeys.QUERY, BertKeys.BIAS));
            wk = p.get(BertKeys.of(index, BertKeys.KEY, BertKeys.WEIGHT));
            bk = p.get(BertKeys.of(index, BertKeys.KEY, BertKeys.BIAS));
            wv = p.get(BertKeys.of(index, BertKeys.VALUE, BertKeys.WEIGHT));
            bv = p.get(BertKeys.of(index, BertKeys.VALUE, BertKeys.BIAS));
            wo = p.get(BertKeys.of(index, BertKeys.ATTENTION_OUTPUT, BertKeys.WEIGHT));
            bo = p.get(BertKeys.of(index, BertKeys.ATTENTION_OUTPUT, BertKeys.BIAS));
            ln1Weight = p.get(BertKeys.of(index, BertKeys.ATTENTION_NORM, BertKeys.WEIGHT));
            ln1Bias = p.get(BertKeys.of(index, BertKeys.ATTENTION_NORM, BertKeys.BIAS));
            wi = p.get(BertKeys.of(index, BertKeys.INTERMEDIATE, BertKeys.WEIGHT));
            bi = p.get(BertKeys.of(index, BertKeys.INTERMEDIATE, BertKeys.BIAS));
            wOut = p.get(BertKeys.of(index, BertKeys.OUTPUT, BertKeys.WEIGHT));
            bOut = p.get(BertKeys.of(index, BertKeys.OUTPUT, BertKeys.BIAS));
            ln2Weight = p.get(BertKeys.of(index, BertKeys.OUTPUT_NORM, BertKeys.WEIGHT));
            ln2Bias = p.get(BertKeys.of(index, BertKeys.OUTPUT_NORM, BertKeys.BIAS));
        }

        /**
         * @param x         (B, T, E) input
         * @param maskBias  (B, 1, 1, T) 0 for real keys, very negative for padding
         * @param headScale (1, N, 1, 1) or null
         * @param trainable heads whose attention slices may receive gradients, or null for all
         */
        Result forward(NDArray x, NDArray maskBias, NDArray headScale, Set<HeadId> trainable, boolean training) {
            long b = x.getShape().get(0);
            long t = x.getShape().get(1);
            int heads = c.numAttentionHeads();
            int h = c.headSize();

            // Restrict gradients to the chosen heads' slices; values are unchanged.
            NDArray rowMask = trainable == null ? null : headMask(trainable, x.getManager(), true);  // (E, 1)
            NDArray colMask = trainable == null ? null : headMask(trainable, x.getManager(), false); // (1, E)
            NDArray biasMask = rowMask == null ? null : rowMask.reshape(-1);                          // (E)

            NDArray q = split(linear(x, only(wq, rowMask), only(bq, biasMask)), b, t, heads, h); // (B, N, T, H)
            NDArray k = split(linear(x, only(wk, rowMask), only(bk, biasMask)), b, t, heads, h); // (B, N, T, H)
            NDArray v = split(linear(x, only(wv, rowMask), only(bv, biasMask)), b, t, heads, h); // (B, N, T, H)

            // softmax(q·kᵀ / √H + mask): each head's distribution over keys
            // The 1/√H constant is PyTorch-owned: backward reads it (see Native).
            NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).mul(Native.scalar(x.getManager(), 1 / Math.sqrt(h))).add(maskBias); // (B, N, T, T)
            NDArray probs = scores.softmax(-1);                                                            // (B, N, T, T)
            if (headScale != null) {
                probs = probs.mul(headScale);
            }
            NDArray context = dropout(probs, c.attentionProbsDropout(), training).matMul(v) // (B, N, T, H)
                    .transpose(0, 2, 1, 3).reshape(b, t, (long) heads * h);                    // (B, T, E)

            NDArray attended = layerNorm(
                    dropout(linear(context, only(wo, colMask), bo), c.hiddenDropoutProb(), training).add(x),
                    ln1Weight, ln1Bias, c.layerNormEps());                                            // (B, T, E)
            NDArray inner = activation(linear(attended, wi, bi));                                     // (B, T, I)
            NDArray out = layerNorm(
                    dropout(linear(inner, wOut, bOut), c.hiddenDropoutProb(), training).add(attended),
                    ln2Weight, ln2Bias, c.layerNormEps());                                            // (B, T, E)
            return new Result(out, probs, inner);
        }

        /** (B, T, E) -> (B, N, T, H) */
        private static NDArray split(NDArray x, long b, long t, int heads, int h) {
            return x.reshape(b, t, heads, h).transpose(0, 2, 1, 3);
        }

        private NDArray activation(NDArray x) {
            return switch (c.hiddenAct()) {
                case "gelu" -> Activation.gelu(x); // PyTorch's exact erf form, as HuggingFace's "gelu"
                case "gelu_new" -> {
                    NDManager m = x.getManager();
                    NDArray cube = x.mul(x).mul(x);
                    NDArray inner = cube.mul(Native.scalar(m, 0.044715)).add(x).mul(Native.scalar(m, Math.sqrt(2 / Math.PI)));
                    yield x.mul(Native.scalar(m, 0.5)).mul(inner.tanh().add(Native.scalar(m, 1)));
                }
                case "relu" -> Activation.relu(x);
                default -> throw new IllegalStateException(c.hiddenAct());
            };
        }

        /** 1 on the rows (or columns) of the trainable heads of this layer, 0 elsewhere. */
        private NDArray headMask(Set<HeadId> trainable, NDManager m, boolean rows) {
            float[] v = new float[c.hiddenSize()];
            for (HeadId id : trainable) {
                if (id.layer() == index && id.head() < c.numAttentionHeads()) {
                    Arrays.fill(v, id.head() * c.headSize(), (id.head() + 1) * c.headSize(), 1f);
                }
            }
            return Native.of(m, v, rows ? new Shape(v.length, 1) : new Shape(1, v.length)); // backward reads it
        }

        /** w itself in value; its gradient is the incoming gradient times the mask (straight-through). */
        private static NDArray only(NDArray w, NDArray mask) {
            if (mask == null) {
                return w;
            }
            NDArray frozen = w.stopGradient();
            return frozen.add(w.sub(frozen).mul(mask));
        }
    }

    /**
     * The family's classification head on h[CLS]: logits = out(act(dense(h[CLS]))), with dropout where
     * transformers has it. For BERT, act(dense(·)) is the encoder's pooler, present without a head too.
     */
    private static final class ClassificationHead {
        final BertConfig c;
        final NDArray dense, denseBias; // (E, E), (E)
        final NDArray out, outBias;     // (C, E), (C), or null for a bare BERT with a pooler

        ClassificationHead(BertConfig c, Map<String, NDArray> p) {
            this.c = c;
            Family.Head h = c.family().head;
            dense = p.get(h.dense + ".weight");
            denseBias = p.get(h.dense + ".bias");
            out = p.get(h.out + ".weight");
            outBias = p.get(h.out + ".bias");
        }

        /** act(dense(h[CLS])) (B, E); RoBERTa and ELECTRA drop out h[CLS] first. */
        NDArray pooled(NDArray hidden, boolean training) {
            NDArray cls = hidden.get(":, 0, :");                                              // (B, E)
            Family.Head h = c.family().head;
            if (h == Family.Head.TANH || h == Family.Head.GELU) {
                cls = dropout(cls, c.hiddenDropoutProb(), training);
            }
            NDArray x = linear(cls, dense, denseBias);
            return switch (h.activation) {
                case "tanh" -> x.tanh();
                case "gelu" -> Activation.gelu(x);
                default -> Activation.relu(x);
            };
        }

        NDArray logits(NDArray pooled, boolean training) {
            return linear(dropout(pooled, c.hiddenDropoutProb(), training), out, outBias); // (B, C)
        }
    }
}
