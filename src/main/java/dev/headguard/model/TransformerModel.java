package dev.headguard.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A transformer of any family HeadGuard reads ({@link Family}: the BERT-style encoders, DeBERTa-v2,
 * the GPT-2 and Llama-family decoders), with its classification or language-model head, equal to
 * transformers' {@code *Model} / {@code *ForSequenceClassification} / {@code *ForCausalLM} in
 * float32, written on DJL NDArray operations so that every head's attention can be read, scaled
 * and trained on its own. (The name is the first family's; the forward loop is the same for all.)
 *
 * <p>Shape letters: B batch, T tokens, E hidden size, N heads, H head size (E = N·H), KV key/value
 * heads, I intermediate size, V vocabulary, P positions, C classes, L layers.
 *
 * <p>Parameters are kept by BERT's checkpoint names whatever the family ({@link BertKeys},
 * {@link ParameterTable}); {@link Checkpoints} translates a family's own names at the file boundary. The model owns one NDManager for its parameters; a forward pass
 * creates its intermediates in an {@link NDScope} and hands its outputs to the manager of the
 * input ids, so a caller that closes a per-batch manager runs in flat memory.
 */
public final class TransformerModel implements AutoCloseable {
    /** ELECTRA's projection from the embedding width up to the encoder's. */
    public static final String PROJECTION = "embeddings_project";


    private final ModelConfig config;
    private final NDManager manager;
    private final LinkedHashMap<String, NDArray> parameters;
    private final Embeddings embeddings;
    private final List<TransformerBlock> layers;
    private final NDArray finalNormWeight, finalNormBias; // a decoder's norm after the last block, or null
    private final RelativeAttention relative;            // DeBERTa's, or null
    private final ClassificationHead head;

    /**
     * Builds a model from named weights, checking that every name the config needs is present
     * with its exact shape ({@link ParameterTable}); the pooler is optional unless there is a
     * classification head. Weights are converted to float32.
     */
    public TransformerModel(ModelConfig config, Map<String, HostTensor> weights, NDManager parent) {
        this.config = config;
        boolean withPooler = config.hasClassifier() || weights.containsKey("pooler.dense.weight");
        Map<String, long[]> shapes = ParameterTable.shapes(config, withPooler);
        String problem = ParameterTable.problem(shapes, weights);
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
        List<TransformerBlock> ls = new ArrayList<>();
        for (int i = 0; i < config.numHiddenLayers(); i++) {
            ls.add(new TransformerBlock(config, i, parameters));
        }
        this.layers = List.copyOf(ls);
        this.finalNormWeight = parameters.get(BertKeys.FINAL_NORM + ".weight");
        this.finalNormBias = parameters.get(BertKeys.FINAL_NORM + ".bias");
        this.relative = config.relative() == null ? null : new RelativeAttention(config, parameters);
        Family.Head h = config.family().head;
        this.head = parameters.containsKey((h.dense != null ? h.dense : h.out) + ".weight") ? new ClassificationHead(config, parameters) : null;
    }

    public ModelConfig config() {
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
        String problem = ParameterTable.problem(ParameterTable.shapes(config, hasPooler()), weights);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        parameters.forEach((name, a) -> a.set(weights.get(name).toFloats()));
    }

    /**
     * Adds {@code delta[c]} to class c's output bias: each class's logit moves by its delta on every input.
     * False, and nothing changed, when the head has no bias (a decoder's score).
     */
    public boolean shiftClassBias(double[] delta) {
        NDArray bias = parameters.get(config.family().head.out + ".bias");
        if (bias == null) {
            return false;
        }
        float[] b = bias.toFloatArray();
        for (int c = 0; c < b.length; c++) {
            b[c] += (float) delta[c];
        }
        bias.set(b);
        return true;
    }

    /** A copy of every parameter in Java memory, by checkpoint name: what a save writes. */
    public Map<String, HostTensor> toHostTensors() {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        parameters.forEach((name, a) -> out.put(name, HostTensor.ofFloats(a.toFloatArray(), a.getShape().getShape())));
        return out;
    }

    /**
     * Runs the model: an encoder, or a decoder over whole texts (causal attention).
     *
     * @param inputIds      (B, T) int64 token ids
     * @param attentionMask (B, T) 1 for real tokens, 0 for padding (any numeric type); a decoder's padding is on the right
     * @param tokenTypeIds  (B, T) int64 segment ids, or null for all zeros
     */
    public ModelOutput forward(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds, ForwardOptions options) {
        return run(inputIds, attentionMask, tokenTypeIds, options, null, null);
    }

    /**
     * {@link #forward} with the word-embedding lookup replaced by {@code wordVectors} (B, T, W): e.g. a
     * soft mixture of words (LWS's relaxed substitution). Positions, segments and the norm are added as
     * for looked-up words; {@code inputIds} still marks padding.
     */
    public ModelOutput forwardWordVectors(NDArray wordVectors, NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds, ForwardOptions options) {
        return run(inputIds, attentionMask, tokenTypeIds, options, null, wordVectors);
    }

    /**
     * A decoder's next-token logits (B, V) after {@code inputIds} (B, T), which follow the tokens already
     * in {@code cache} (and are added to it). Without padding: generation runs one text at a time.
     */
    public NDArray nextTokenLogits(NDArray inputIds, KvCache cache) {
        if (!config.family().decoder) {
            throw new IllegalStateException(config.family().modelType + " is not a decoder");
        }
        NDManager m = inputIds.getManager();
        long seen = cache.length();
        NDArray mask = m.ones(new Shape(inputIds.getShape().get(0), seen + inputIds.getShape().get(1)), DataType.INT64);
        ModelOutput o = run(inputIds, mask, null, ForwardOptions.INFERENCE, cache, null);
        cache.advance(inputIds.getShape().get(1));
        try (NDScope ignored = new NDScope()) {
            long t = o.lastHiddenState().getShape().get(1);
            NDArray logits = lmLogits(o.lastHiddenState().get(":, " + (t - 1) + ":" + t + ", :")).squeeze(1); // (B, V)
            NDScope.unregister(logits);
            return logits;
        }
    }

    /**
     * Each text's summary state (B, E) in a hidden state (B, T, E): [CLS] for an encoder, the last real
     * token for a decoder (the only one that has read the whole text).
     */
    public NDArray sentenceStates(NDArray hidden, NDArray attentionMask) {
        return config.family().decoder ? ClassificationHead.lastRealToken(hidden, attentionMask.toType(DataType.FLOAT32, false))
                : hidden.get(":, 0, :");
    }

    /** A decoder's next-token logits at every position (B, T, V): the LM head, or the word embeddings when tied. */
    public NDArray lmLogits(NDArray lastHiddenState) {
        NDArray w = parameters.containsKey(BertKeys.LM_HEAD + ".weight") ? parameters.get(BertKeys.LM_HEAD + ".weight")
                : parameters.get(BertKeys.WORD_EMBEDDINGS);
        return Ops.linear(lastHiddenState, w, null);
    }

    private ModelOutput run(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds, ForwardOptions options, KvCache cache, NDArray wordVectors) {
        Shape s = inputIds.getShape();
        if (s.dimension() != 2) {
            throw new IllegalArgumentException("input ids must be (B, T), got " + s);
        }
        long seen = cache == null ? 0 : cache.length();
        if (seen + s.get(1) > config.maxTokens()) {
            throw new IllegalArgumentException((seen + s.get(1)) + " tokens exceed the model's " + config.maxTokens() + " positions");
        }
        NDManager out = inputIds.getManager();
        boolean decoder = config.family().decoder;
        try (NDScope ignored = new NDScope()) {
            NDArray keyMask = attentionMask.toType(DataType.FLOAT32, false);                    // (B, keys): the cache's and the new tokens'
            NDArray mask = seen == 0 ? keyMask : keyMask.get(":, " + seen + ":");               // (B, T): the new tokens'
            // Masked keys get the most negative score, so softmax gives them exactly zero.
            NDArray maskBias = keyMask.neg().add(1f).mul(TransformerBlock.MASKED_SCORE).expandDims(1).expandDims(1); // (B, 1, 1, keys)
            if (decoder) {
                maskBias = maskBias.add(causalBias(out, seen, s.get(1)));                       // (B, 1, T, keys)
            }
            NDArray queryMask = options.attentions() ? mask.expandDims(1).expandDims(3) : null; // (B, 1, T, 1)
            Rotary rotary = config.family().rotary() ? Rotary.of(out, config.headSize(), config.decoder().ropeTheta(), seen, s.get(1)) : null;

            NDArray x = embeddings.forward(inputIds, wordVectors, tokenTypeIds, options.training(), seen); // (B, T, E)
            TransformerBlock.Positions positions = new TransformerBlock.Positions(rotary, cache, relative,
                    relative == null ? null : relative.inputs(out, s.get(1), options.training()));
            if (relative != null) {
                x = x.mul(mask.expandDims(2)); // DeBERTa zeroes its padding's embeddings
            }
            if (options.shiftLayer() == 0) {
                x = shifted(x, mask, options);
            }
            List<NDArray> hidden = new ArrayList<>();
            List<NDArray> attentions = new ArrayList<>();
            List<NDArray> intermediates = new ArrayList<>();
            if (options.hiddenStates()) {
                hidden.add(x);
            }
            // Without autograd, the layers' per-token work skips padding (training batches come sorted by length: little to skip).
            Packing packing = options.training() || Native.recording() || cache != null || options.shift() != null ? null : Packing.of(mask);
            if (packing != null) {
                x = packing.pack(x);                                                            // (R, E)
            }
            for (TransformerBlock layer : layers) {
                NDArray scale = options.headScale() == null ? null
                        : options.headScale().get(layer.index).reshape(1, config.numAttentionHeads(), 1, 1); // (1, N, 1, 1)
                TransformerBlock.Result r = layer.forward(x, maskBias, scale, options.trainableHeads(), options.training(), positions, packing);
                x = r.output();
                if (layer.index + 1 == options.shiftLayer()) {
                    x = shifted(x, mask, options);
                }
                if (options.hiddenStates()) {
                    hidden.add(packing == null ? x : packing.unpack(x));
                }
                if (options.attentions()) {
                    attentions.add(Ops.times(r.probs(), queryMask)); // zero the rows of padding queries too
                }
                if (options.intermediates()) {
                    intermediates.add(packing == null ? r.inner() : packing.unpack(r.inner()));
                }
            }
            if (finalNormWeight != null) {
                // transformers reports the normed state as the last hidden state
                x = finalNormBias != null ? Ops.layerNorm(x, finalNormWeight, finalNormBias, config.layerNormEps())
                        : Ops.rmsNorm(x, finalNormWeight, config.layerNormEps());
            }
            if (packing != null) {
                // without a final norm the last hidden state is x, already unpacked
                x = options.hiddenStates() && finalNormWeight == null ? hidden.get(hidden.size() - 1) : packing.unpack(x); // (B, T, E)
            }
            if (finalNormWeight != null) {
                if (options.hiddenStates()) {
                    hidden.set(hidden.size() - 1, x);
                }
            }
            NDArray pooled = head == null ? null : head.pooled(x, mask, options.training());
            NDArray logits = head == null || head.out == null ? null : head.logits(pooled, options.training());
            ModelOutput result = new ModelOutput(x, pooled, logits, hidden, attentions, intermediates);
            keep(out, x, pooled, logits);
            hidden.forEach(a -> keep(out, a));
            attentions.forEach(a -> keep(out, a));
            intermediates.forEach(a -> keep(out, a));
            return result;
        }
    }

    /** (1, 1, T, seen + T): 0 where query i may read key j (j ≤ seen + i), very negative after it. */
    private static NDArray causalBias(NDManager m, long seen, long t) {
        long keys = seen + t;
        float[] v = new float[(int) (t * keys)];
        for (int i = 0; i < t; i++) {
            for (long j = seen + i + 1; j < keys; j++) {
                v[(int) (i * keys + j)] = TransformerBlock.MASKED_SCORE;
            }
        }
        return Native.of(m, v, new Shape(1, 1, t, keys));
    }

    /** x + δ on every real token: the options' hidden shift (one δ for all texts, one per text, or one per token). */
    private static NDArray shifted(NDArray x, NDArray mask, ForwardOptions options) {
        int d = options.shift().getShape().dimension();
        NDArray shift = d == 3 ? options.shift() : d == 2 ? options.shift().expandDims(1) : options.shift().reshape(1, 1, -1); // (B, T, E), (B, 1, E) or (1, 1, E)
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
}
