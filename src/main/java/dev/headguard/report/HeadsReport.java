package dev.headguard.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.detect.attention.LayerSimilarity;

import java.util.List;
import java.util.Locale;

/** {@code headguard heads}: the per-layer head similarity as a table or JSON (the one owner of that format). */
public final class HeadsReport {
    private HeadsReport() {}

    public static ObjectNode json(String model, int sentences, List<LayerSimilarity> layers) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("model", model);
        o.put("sentences", sentences);
        ArrayNode arr = o.putArray("layers");
        for (LayerSimilarity l : layers) {
            ObjectNode lo = arr.addObject();
            lo.put("layer", l.layer());
            lo.put("mean_similarity", l.mean());
            lo.put("min_pair", l.minPair());
            lo.put("max_pair", l.maxPair());
            lo.putArray("max_pair_heads").add(l.maxPairHeads()[0]).add(l.maxPairHeads()[1]);
            ArrayNode hs = lo.putArray("head_similarity");
            for (double v : l.headSimilarity()) {
                hs.add(v);
            }
        }
        return o;
    }

    public static String table(String model, int sentences, List<LayerSimilarity> layers) {
        int heads = layers.isEmpty() ? 0 : layers.get(0).headSimilarity().length;
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "%s: %d layers x %d heads, %d sentences%n", model, layers.size(), heads, sentences));
        s.append(String.format("Head similarity = mean cosine between a head's attention map and the other heads' maps of its layer.%n"));
        s.append(String.format("In a backdoored model, triggered inputs push some layers' heads to attend alike.%n%n"));
        s.append(String.format(Locale.ROOT, "%-6s %6s %6s %12s  %s%n", "layer", "mean", "min", "max (pair)", "per head: similarity to the rest of its layer"));
        for (LayerSimilarity l : layers) {
            StringBuilder row = new StringBuilder();
            for (double v : l.headSimilarity()) {
                row.append(String.format(Locale.ROOT, "%5.2f", v));
            }
            s.append(String.format(Locale.ROOT, "%-6d %6.3f %6.3f %5.3f %-6s %s%n", l.layer(), l.mean(), l.minPair(), l.maxPair(),
                    "(" + l.maxPairHeads()[0] + "," + l.maxPairHeads()[1] + ")", row));
        }
        return s.toString();
    }
}
