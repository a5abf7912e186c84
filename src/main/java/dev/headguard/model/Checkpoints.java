package dev.headguard.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Translates a family's checkpoint tensors to HeadGuard's names and back: one table of layer-module and
 * top-level names per family ({@link Layout}). GPT-2 also stores Q, K and V fused in one input-major matrix
 * ({@code c_attn}, a Conv1D) and every projection input-major, which become BERT's separate (out, in)
 * matrices here, so a head's slice is the same rows everywhere.
 */
public final class Checkpoints {
    private Checkpoints() {}

    /**
     * Where a family's layers live and how its names differ from HeadGuard's.
     * @param layers     the checkpoint's layer prefix (before the layer number), without the family prefix
     * @param layerNames checkpoint module names (after {@code layers + N.}) to HeadGuard's; absent ones are the same
     * @param topNames   checkpoint module names outside the layers to HeadGuard's
     */
    private record Layout(String layers, Map<String, String> layerNames, Map<String, String> topNames) {}

    /** DistilBERT's layer modules (after {@code transformer.layer.N.}). */
    private static final Map<String, String> DISTILBERT_LAYER = Map.of(
            "attention.q_lin", BertKeys.QUERY,
            "attention.k_lin", BertKeys.KEY,
            "attention.v_lin", BertKeys.VALUE,
            "attention.out_lin", BertKeys.ATTENTION_OUTPUT,
            "sa_layer_norm", BertKeys.ATTENTION_NORM,
            "ffn.lin1", BertKeys.INTERMEDIATE,
            "ffn.lin2", BertKeys.OUTPUT,
            "output_layer_norm", BertKeys.OUTPUT_NORM);

    /** DeBERTa-v2's layer modules that differ from BERT's. */
    private static final Map<String, String> DEBERTA_LAYER = Map.of(
            "attention.self.query_proj", BertKeys.QUERY,
            "attention.self.key_proj", BertKeys.KEY,
            "attention.self.value_proj", BertKeys.VALUE);

    /** GPT-2's layer tensors (after {@code h.N.}) against HeadGuard's module names; Conv1D ones are transposed. */
    private static final Map<String, String> GPT2_LAYER = Map.of(
            "ln_1", BertKeys.ATTENTION_NORM,
            "attn.c_proj", BertKeys.ATTENTION_OUTPUT,
            "ln_2", BertKeys.OUTPUT_NORM,
            "mlp.c_fc", BertKeys.INTERMEDIATE,
            "mlp.c_proj", BertKeys.OUTPUT);

    /** The Llama family's layer tensors (after {@code layers.N.}). */
    private static final Map<String, String> LLAMA_LAYER = Map.of(
            "input_layernorm", BertKeys.ATTENTION_NORM,
            "self_attn.q_proj", BertKeys.QUERY,
            "self_attn.k_proj", BertKeys.KEY,
            "self_attn.v_proj", BertKeys.VALUE,
            "self_attn.o_proj", BertKeys.ATTENTION_OUTPUT,
            "post_attention_layernorm", BertKeys.OUTPUT_NORM,
            "mlp.gate_proj", BertKeys.GATE,
            "mlp.up_proj", BertKeys.INTERMEDIATE,
            "mlp.down_proj", BertKeys.OUTPUT);

    private static Layout layout(Family f) {
        return switch (f) {
            case BERT, ROBERTA, XLM_ROBERTA, ELECTRA -> new Layout(BertKeys.LAYER_PREFIX, Map.of(), Map.of());
            case DISTILBERT -> new Layout("transformer.layer.", DISTILBERT_LAYER, Map.of());
            case DEBERTA_V2 -> new Layout(BertKeys.LAYER_PREFIX, DEBERTA_LAYER, Map.of());
            case GPT2 -> new Layout("h.", GPT2_LAYER, Map.of("wte", "embeddings.word_embeddings", "wpe", "embeddings.position_embeddings",
                    "ln_f", BertKeys.FINAL_NORM));
            case LLAMA, MISTRAL, QWEN2 -> new Layout("layers.", LLAMA_LAYER, Map.of("embed_tokens", "embeddings.word_embeddings",
                    "norm", BertKeys.FINAL_NORM));
        };
    }

    /** A checkpoint's tensors by HeadGuard's names; buffers (causal masks, rotary tables, position ids) are dropped. */
    public static Map<String, HostTensor> read(ModelConfig c, Map<String, HostTensor> raw) {
        Family f = c.family();
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, HostTensor> e : raw.entrySet()) {
            String key = e.getKey();
            if (key.endsWith("position_ids") || key.endsWith(".attn.bias") || key.endsWith(".attn.masked_bias") || key.endsWith("rotary_emb.inv_freq")) {
                continue;
            }
            String n = f.withoutPrefix(key);
            if (f == Family.GPT2) {
                readGpt2(n, e.getValue(), c, out);
            } else {
                out.put(rename(n, layout(f)), e.getValue());
            }
        }
        return out;
    }

    /** HeadGuard's tensors under the family's checkpoint names (prefixed when the model has a head). */
    public static Map<String, HostTensor> write(ModelConfig c, Map<String, HostTensor> ours) {
        Family f = c.family();
        boolean prefixed = c.hasClassifier() || c.languageModel();
        Map<String, HostTensor> out = new LinkedHashMap<>();
        String p = prefixed ? f.prefix : "";
        for (Map.Entry<String, HostTensor> e : ours.entrySet()) {
            String name = e.getKey();
            HostTensor t = e.getValue();
            if (f.inHead(name)) {
                out.put(name, t);
            } else if (f == Family.GPT2) {
                writeGpt2(name, t, ours, p, out);
            } else {
                out.put(p + renameBack(name, layout(f)), t);
            }
        }
        return out;
    }

    private static void readGpt2(String n, HostTensor t, ModelConfig c, Map<String, HostTensor> out) {
        boolean floating = t.dtype() == DType.F32 || t.dtype() == DType.F16 || t.dtype() == DType.BF16 || t.dtype() == DType.F64;
        long e3 = 3L * c.hiddenSize();
        boolean fusedShape = n.endsWith(".weight") ? t.shape().length == 2 && t.shape()[0] == c.hiddenSize() && t.shape()[1] == e3
                : t.shape().length == 1 && t.shape()[0] == e3;
        if (n.startsWith("h.") && n.contains(".attn.c_attn.") && floating && fusedShape) {
            int layer = Integer.parseInt(n.substring(2, n.indexOf('.', 2)));
            String tensor = n.substring(n.lastIndexOf('.') + 1);
            int e = c.hiddenSize();
            List<String> qkv = List.of(BertKeys.QUERY, BertKeys.KEY, BertKeys.VALUE);
            for (int k = 0; k < 3; k++) {
                // weight (E, 3E) input-major: column block k, transposed to (E out, E in); bias (3E): block k
                out.put(BertKeys.of(layer, qkv.get(k), tensor), tensor.equals(BertKeys.WEIGHT) ? columns(t, k * e, e).transpose2d() : slice(t, k * e, e));
            }
            return;
        }
        String name = rename(n, layout(Family.GPT2));
        boolean conv1d = n.startsWith("h.") && n.endsWith(".weight") && (n.contains(".attn.c_proj.") || n.contains(".mlp."));
        // A tensor of the wrong kind passes through untouched, for the loader to refuse by name and shape.
        out.put(name, conv1d && floating && t.shape().length == 2 ? t.transpose2d() : t);
    }

    private static void writeGpt2(String name, HostTensor t, Map<String, HostTensor> ours, String p, Map<String, HostTensor> out) {
        if (name.contains("." + BertKeys.KEY + ".") || name.contains("." + BertKeys.VALUE + ".")) {
            return; // written with the query, fused
        }
        if (name.contains("." + BertKeys.QUERY + ".")) {
            String layerPart = name.substring(0, name.indexOf(BertKeys.QUERY));          // encoder.layer.N.
            String tensor = name.substring(name.lastIndexOf('.') + 1);
            int layer = Integer.parseInt(layerPart.substring(BertKeys.LAYER_PREFIX.length(), layerPart.length() - 1));
            HostTensor q = t;
            HostTensor k = ours.get(BertKeys.of(layer, BertKeys.KEY, tensor));
            HostTensor v = ours.get(BertKeys.of(layer, BertKeys.VALUE, tensor));
            out.put(p + "h." + layer + ".attn.c_attn." + tensor, tensor.equals(BertKeys.WEIGHT)
                    ? concatColumns(q.transpose2d(), k.transpose2d(), v.transpose2d()) : concat(q, k, v));
            return;
        }
        String n = renameBack(name, layout(Family.GPT2));
        boolean conv1d = n.startsWith("h.") && n.endsWith(".weight") && (n.contains(".attn.c_proj.") || n.contains(".mlp."));
        out.put(p + n, conv1d ? t.transpose2d() : t);
    }

    /** {@code <layers>N.module.tensor} → {@code encoder.layer.N.<ours>.tensor}; top-level modules by the layout's table; unknown names pass through. */
    private static String rename(String n, Layout l) {
        if (n.startsWith(l.layers())) {
            String rest = n.substring(l.layers().length());
            int dot = rest.indexOf('.');
            int last = rest.lastIndexOf('.');
            if (dot > 0 && last > dot) {
                String module = rest.substring(dot + 1, last);
                return BertKeys.LAYER_PREFIX + rest.substring(0, dot) + "." + l.layerNames().getOrDefault(module, module) + rest.substring(last);
            }
            return n;
        }
        int last = n.lastIndexOf('.');
        String mapped = last > 0 ? l.topNames().get(n.substring(0, last)) : null;
        return mapped == null ? n : mapped + n.substring(last);
    }

    /** The inverse of {@link #rename}. */
    private static String renameBack(String name, Layout l) {
        if (name.startsWith(BertKeys.LAYER_PREFIX)) {
            String rest = name.substring(BertKeys.LAYER_PREFIX.length());
            int dot = rest.indexOf('.');
            int last = rest.lastIndexOf('.');
            String module = rest.substring(dot + 1, last);
            for (Map.Entry<String, String> e : l.layerNames().entrySet()) {
                if (e.getValue().equals(module)) {
                    module = e.getKey();
                    break;
                }
            }
            return l.layers() + rest.substring(0, dot) + "." + module + rest.substring(last);
        }
        int last = name.lastIndexOf('.');
        for (Map.Entry<String, String> e : l.topNames().entrySet()) {
            if (e.getValue().equals(name.substring(0, last))) {
                return e.getKey() + name.substring(last);
            }
        }
        return name;
    }

    /** Columns [from, from + n) of a 2-D tensor, as float32. */
    private static HostTensor columns(HostTensor t, int from, int n) {
        int rows = (int) t.shape()[0];
        int cols = (int) t.shape()[1];
        float[] v = t.toFloats();
        float[] out = new float[rows * n];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(v, r * cols + from, out, r * n, n);
        }
        return HostTensor.ofFloats(out, rows, n);
    }

    /** Elements [from, from + n) of a 1-D tensor. */
    private static HostTensor slice(HostTensor t, int from, int n) {
        float[] v = t.toFloats();
        return HostTensor.ofFloats(java.util.Arrays.copyOfRange(v, from, from + n), n);
    }

    private static HostTensor concat(HostTensor... parts) {
        int n = 0;
        for (HostTensor p : parts) {
            n += (int) p.elementCount();
        }
        float[] out = new float[n];
        int at = 0;
        for (HostTensor p : parts) {
            float[] v = p.toFloats();
            System.arraycopy(v, 0, out, at, v.length);
            at += v.length;
        }
        return HostTensor.ofFloats(out, n);
    }

    private static HostTensor concatColumns(HostTensor... parts) {
        int rows = (int) parts[0].shape()[0];
        int cols = 0;
        for (HostTensor p : parts) {
            cols += (int) p.shape()[1];
        }
        float[] out = new float[rows * cols];
        int at = 0;
        for (HostTensor p : parts) {
            int w = (int) p.shape()[1];
            float[] v = p.toFloats();
            for (int r = 0; r < rows; r++) {
                System.arraycopy(v, r * w, out, r * cols + at, w);
            }
            at += w;
        }
        return HostTensor.ofFloats(out, rows, cols);
    }
}
