package dev.headguard.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.detect.HeadSimilarity;
import dev.headguard.inference.BatchRunner;
import dev.headguard.model.BertConfig;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.SentenceFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * The quick look at a model's heads: for each layer, how alike its heads attend on the given
 * sentences (mean pairwise cosine of their attention maps), and each head's similarity to the
 * rest of its layer. The baseline that later scans compare triggered inputs against.
 */
@Command(name = "heads", description = "Summarise attention-head similarity per layer and head over a few sentences.")
final class HeadsCommand implements Callable<Integer> {
    static final List<String> EXAMPLES = List.of(
            "a gripping , beautifully acted thriller that never lets go .",
            "the plot is thin and the jokes fall flat .",
            "an ambitious film that does n't quite live up to its premise .",
            "i loved every minute of it .",
            "this is the dullest movie of the year .",
            "a warm , funny and surprisingly moving story about family .",
            "the actors seem as bored as the audience .",
            "it 's a smart , sharp comedy with real heart .");

    @Mixin
    ModelOptions model = new ModelOptions();

    @Option(names = "--input", paramLabel = "FILE", description = "Sentences (one per line, or a TSV with a 'sentence' column); default: eight built-in examples.")
    Path input;

    @Option(names = "--json", description = "Print JSON instead of the table.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        List<String> sentences = input == null ? EXAMPLES : SentenceFile.readSentences(input);
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = model.load(root)) {
            BertConfig c = m.model().config();
            int layers = c.numHiddenLayers();
            int heads = c.numAttentionHeads();
            double[][] headSim = new double[layers][heads]; // summed over sentences
            double[] pairMin = new double[layers];
            double[] pairMax = new double[layers];
            int[][] argMax = new int[layers][2];
            double[][] pair = new double[layers][heads * heads];
            new BatchRunner(m, root, 16).run(sentences, ForwardOptions.INFERENCE.withAttentions(), true, (rows, tokens, in, out) -> {
                for (int l = 0; l < layers; l++) {
                    NDArray cos = HeadSimilarity.pairwiseCosine(out.attentions().get(l)); // (B, N, N)
                    float[] perHead = HeadSimilarity.meanToOthers(cos).sum(new int[] {0}).toFloatArray();
                    float[] p = cos.sum(new int[] {0}).toFloatArray();
                    for (int h = 0; h < heads; h++) {
                        headSim[l][h] += perHead[h];
                    }
                    for (int k = 0; k < p.length; k++) {
                        pair[l][k] += p[k];
                    }
                }
            });
            int n = sentences.size();
            for (int l = 0; l < layers; l++) {
                pairMin[l] = Double.MAX_VALUE;
                pairMax[l] = -Double.MAX_VALUE;
                for (int i = 0; i < heads; i++) {
                    headSim[l][i] /= n;
                    for (int j = i + 1; j < heads; j++) {
                        double v = pair[l][i * heads + j] / n;
                        pairMin[l] = Math.min(pairMin[l], v);
                        if (v > pairMax[l]) {
                            pairMax[l] = v;
                            argMax[l] = new int[] {i, j};
                        }
                    }
                }
            }
            if (json) {
                ObjectMapper om = new ObjectMapper();
                ObjectNode o = om.createObjectNode();
                o.put("model", m.directory().toString());
                o.put("sentences", n);
                ArrayNode arr = o.putArray("layers");
                for (int l = 0; l < layers; l++) {
                    ObjectNode lo = arr.addObject();
                    lo.put("layer", l);
                    lo.put("mean_similarity", java.util.Arrays.stream(headSim[l]).average().orElse(0));
                    lo.put("min_pair", pairMin[l]);
                    lo.put("max_pair", pairMax[l]);
                    lo.putArray("max_pair_heads").add(argMax[l][0]).add(argMax[l][1]);
                    ArrayNode hs = lo.putArray("head_similarity");
                    for (double v : headSim[l]) {
                        hs.add(v);
                    }
                }
                System.out.println(om.writerWithDefaultPrettyPrinter().writeValueAsString(o));
                return 0;
            }
            System.out.printf(Locale.ROOT, "%s: %d layers x %d heads, %d sentences%n", m.directory(), layers, heads, n);
            System.out.println("Head similarity = mean cosine between a head's attention map and the other heads' maps of its layer.");
            System.out.println("In a backdoored model, triggered inputs push some layers' heads to attend alike.\n");
            System.out.printf(Locale.ROOT, "%-6s %6s %6s %12s  %s%n", "layer", "mean", "min", "max (pair)", "per head: similarity to the rest of its layer");
            for (int l = 0; l < layers; l++) {
                StringBuilder row = new StringBuilder();
                for (int h = 0; h < heads; h++) {
                    row.append(String.format(Locale.ROOT, "%5.2f", headSim[l][h]));
                }
                System.out.printf(Locale.ROOT, "%-6d %6.3f %6.3f %5.3f %-6s %s%n", l, java.util.Arrays.stream(headSim[l]).average().orElse(0),
                        pairMin[l], pairMax[l], "(" + argMax[l][0] + "," + argMax[l][1] + ")", row);
            }
        }
        return 0;
    }
}
