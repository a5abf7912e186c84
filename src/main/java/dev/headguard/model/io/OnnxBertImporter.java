package dev.headguard.model.io;

import dev.headguard.HeadGuardException;
import dev.headguard.model.ModelConfig;
import dev.headguard.model.DType;
import dev.headguard.model.HostTensor;
import dev.headguard.text.TextTokenizer;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a BERT ONNX export (as {@code torch.onnx.export} writes one for a HuggingFace model) into
 * HuggingFace weights and config.
 *
 * <p>Embeddings, biases and LayerNorm parameters keep their checkpoint names in the export. The
 * weights of linear layers do not: each became the unnamed second input of a {@code MatMul},
 * stored (in, out), i.e. transposed. The {@code Add} that follows the {@code MatMul} adds the
 * layer's named bias, so {@code Add(X.bias, MatMul(h, W))} tells us that {@code X.weight = Wᵀ}.
 * The head count is in no weight; it is read from the attention's scaling constant
 * ({@code scores / √H}), the LayerNorm epsilon from the constant added before its square root.
 */
public final class OnnxBertImporter {
    private static final Pattern LAYER = Pattern.compile("^encoder\\.layer\\.(\\d+)\\.");

    /** The converted model; {@code notes} says what was inferred and how. */
    public record Imported(ModelConfig config, Map<String, HostTensor> weights, List<String> notes) {}

    private OnnxBertImporter() {}

    /** Reads an ONNX file and its tokenizer, converts, checks, and writes a HuggingFace directory. */
    public static Imported importTo(Path onnx, Path tokenizer, Path out, Integer heads, Map<String, Object> provenance) {
        Imported imported = convert(OnnxGraph.read(onnx), onnx.toString(), heads);
        check(imported, tokenizer);
        Map<String, Object> p = new LinkedHashMap<>(provenance);
        p.put("imported_from", onnx.toAbsolutePath().toString());
        p.put("import_notes", imported.notes());
        ModelStore.write(imported.config(), imported.weights(), tokenizer, out, p);
        return imported;
    }

    /** The tokenizer must open and fit the vocabulary. */
    static void check(Imported imported, Path tokenizer) {
        try (TextTokenizer t = TextTokenizer.open(tokenizer, Math.min(512, imported.config().maxTokens()))) {
            ModelStore.checkVocabulary(t, imported.config(), tokenizer);
        }
    }

    /** Maps a parsed graph to BERT weights and config. */
    public static Imported convert(OnnxGraph g, String source, Integer headsOverride) {
        Map<String, HostTensor> w = new LinkedHashMap<>();
        g.initializers().forEach((name, t) -> {
            String n = strip(name);
            if ((n.startsWith("embeddings.") || n.startsWith("encoder.layer.") || n.startsWith("pooler.")) && !n.endsWith("position_ids")) {
                w.put(n, t);
            }
        });
        // Add(X.bias, MatMul(h, W)) or Add(MatMul(h, W), X.bias)  =>  X.weight = Wᵀ
        for (OnnxGraph.Node add : g.nodes()) {
            if (!add.opType().equals("Add") || add.inputs().size() != 2) {
                continue;
            }
            for (int side = 0; side < 2; side++) {
                String bias = strip(add.inputs().get(side));
                if (!bias.endsWith(".bias") || !g.initializers().containsKey(add.inputs().get(side))) {
                    continue;
                }
                OnnxGraph.Node mm = g.producer(add.inputs().get(1 - side));
                if (mm == null || !mm.opType().equals("MatMul") || mm.inputs().size() != 2) {
                    continue;
                }
                HostTensor weight = g.initializers().get(mm.inputs().get(1));
                if (weight != null && weight.shape().length == 2) {
                    w.put(bias.substring(0, bias.length() - ".bias".length()) + ".weight", weight.transpose2d());
                }
            }
        }
        ModelConfig config = inferConfig(g, w, source, headsOverride);
        List<String> notes = notesFor(config, headsOverride);
        boolean pooler = w.containsKey("pooler.dense.weight");
        String problem = dev.headguard.model.ParameterTable.problem(dev.headguard.model.ParameterTable.shapes(config, pooler), w);
        if (problem != null) {
            throw new HeadGuardException(source + ": does not look like a BERT export: " + problem);
        }
        Map<String, HostTensor> ordered = new LinkedHashMap<>();
        dev.headguard.model.ParameterTable.shapes(config, pooler).keySet().forEach(k -> ordered.put(k, w.get(k)));
        return new Imported(config, ordered, notes);
    }

    private static ModelConfig inferConfig(OnnxGraph g, Map<String, HostTensor> w, String source, Integer headsOverride) {
        HostTensor word = need(w, "embeddings.word_embeddings.weight", source);
        HostTensor pos = need(w, "embeddings.position_embeddings.weight", source);
        HostTensor type = need(w, "embeddings.token_type_embeddings.weight", source);
        HostTensor inter = need(w, dev.headguard.model.BertKeys.of(0, dev.headguard.model.BertKeys.INTERMEDIATE, dev.headguard.model.BertKeys.BIAS), source);
        Set<Integer> layers = new TreeSet<>();
        for (String n : w.keySet()) {
            Matcher m = LAYER.matcher(n);
            if (m.find()) {
                layers.add(Integer.parseInt(m.group(1)));
            }
        }
        int hidden = (int) word.shape()[1];
        int heads = headsOverride != null ? checkedOverride(g, hidden, source, headsOverride) : detectHeads(g, hidden, source);
        double eps = detectLayerNormEps(g);
        String act = hasOp(g, "Erf") ? "gelu" : hasOp(g, "Tanh") ? "gelu_new" : "relu";
        try {
            return ModelConfig.bert((int) word.shape()[0], hidden, layers.size(), heads, (int) inter.shape()[0], (int) pos.shape()[0], (int) type.shape()[0],
                    ModelConfig.Blocks.of(act, eps), 0, List.of());
        } catch (IllegalArgumentException e) {
            throw new HeadGuardException(source + ": " + e.getMessage());
        }
    }

    /** --heads is for graphs that do not tell; one that contradicts what the graph states makes a wrong model. */
    private static int checkedOverride(OnnxGraph g, int hidden, String source, int given) {
        if (given < 1 || hidden % given != 0) {
            throw new HeadGuardException("--heads " + given + ": must divide the hidden size " + hidden);
        }
        int stated;
        try {
            stated = detectHeads(g, hidden, source);
        } catch (HeadGuardException graphSilent) {
            return given;
        }
        if (stated != given) {
            throw new HeadGuardException("--heads " + given + ": " + source + " states " + stated + " heads (its attention scaling); leave --heads out");
        }
        return given;
    }

    /** H from the scaling of the first attention's scores: Div by √H, or Mul by 1/√H. N = E / H. */
    static int detectHeads(OnnxGraph g, int hidden, String source) {
        for (OnnxGraph.Node softmax : g.nodes()) {
            if (!softmax.opType().equals("Softmax")) {
                continue;
            }
            // Walk up from the softmax a few steps: Softmax <- Add(mask) <- Div(scores, √H)
            List<String> frontier = List.copyOf(softmax.inputs());
            for (int depth = 0; depth < 4 && !frontier.isEmpty(); depth++) {
                List<String> next = new java.util.ArrayList<>();
                for (String value : frontier) {
                    OnnxGraph.Node n = g.producer(value);
                    if (n == null) {
                        continue;
                    }
                    if ((n.opType().equals("Div") || n.opType().equals("Mul")) && n.inputs().size() == 2) {
                        HostTensor c = g.constant(n.inputs().get(1));
                        if (c != null && c.elementCount() == 1 && isFloat(c)) {
                            double v = c.toFloats()[0];
                            double h = n.opType().equals("Div") ? v * v : 1 / (v * v);
                            long head = Math.round(h);
                            if (head > 0 && Math.abs(h - head) < 1e-3 * head && hidden % head == 0) {
                                return (int) (hidden / head);
                            }
                        }
                    }
                    next.addAll(n.inputs());
                }
                frontier = next;
            }
        }
        throw new HeadGuardException(source + ": cannot tell the number of attention heads from the graph; pass --heads N");
    }

    /** The constant added to the variance before Sqrt in the first LayerNorm; 1e-12 (BERT's) when not found. */
    static double detectLayerNormEps(OnnxGraph g) {
        for (OnnxGraph.Node sqrt : g.nodes()) {
            if (!sqrt.opType().equals("Sqrt")) {
                continue;
            }
            OnnxGraph.Node add = g.producer(sqrt.inputs().get(0));
            if (add != null && add.opType().equals("Add")) {
                for (String in : add.inputs()) {
                    HostTensor c = g.constant(in);
                    if (c != null && c.elementCount() == 1 && isFloat(c)) {
                        return c.toFloats()[0];
                    }
                }
            }
            break;
        }
        return 1e-12;
    }

    private static List<String> notesFor(ModelConfig c, Integer headsOverride) {
        return List.of(
                "num_attention_heads=" + c.numAttentionHeads() + (headsOverride != null ? " (given)" : " (from the attention scaling constant)"),
                "layer_norm_eps=" + c.layerNormEps(),
                "hidden_act=" + c.hiddenAct());
    }

    private static boolean isFloat(HostTensor t) {
        return t.dtype() == DType.F32 || t.dtype() == DType.F64 || t.dtype() == DType.F16 || t.dtype() == DType.BF16;
    }

    private static boolean hasOp(OnnxGraph g, String op) {
        return g.nodes().stream().anyMatch(n -> n.opType().equals(op));
    }

    private static HostTensor need(Map<String, HostTensor> w, String name, String source) {
        HostTensor t = w.get(name);
        if (t == null || t.shape().length == 0) {
            throw new HeadGuardException(source + ": does not look like a BERT export: no initializer '" + name + "'");
        }
        return t;
    }

    private static String strip(String name) {
        return dev.headguard.model.Family.BERT.withoutPrefix(name);
    }
}
