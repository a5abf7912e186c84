package dev.headguard.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.text.Dataset;

import java.util.List;
import java.util.Locale;

/** {@code eval}'s outputs: its JSON (a contract) and the per-input predictions file (what pandas reads back). */
public final class EvaluationReport {
    private EvaluationReport() {}

    /** One line per input of each set, from the probabilities the figures were counted from. */
    public static String predictions(int classes, Dataset clean, float[][] pClean, int[] cleanPredicted, Dataset triggered, float[][] pTriggered,
                                     int[] triggeredPredicted) {
        StringBuilder s = new StringBuilder("set\tindex\tlabel\tprediction\t");
        for (int c = 0; c < classes; c++) {
            s.append("p_").append(c).append('\t');
        }
        s.append("sentence\n");
        for (Dataset d : triggered == null ? List.of(clean) : List.of(clean, triggered)) {
            String name = d == clean ? "clean" : "triggered";
            float[][] p = d == clean ? pClean : pTriggered;
            int[] predicted = d == clean ? cleanPredicted : triggeredPredicted;
            for (int i = 0; i < d.size(); i++) {
                s.append(name).append('\t').append(i).append('\t').append(d.examples().get(i).label()).append('\t').append(predicted[i]).append('\t');
                for (float v : p[i]) {
                    s.append(String.format(Locale.ROOT, "%.6g", v)).append('\t');
                }
                s.append(d.texts().get(i).replace('\t', ' ').replace('\n', ' ')).append('\n');
            }
        }
        return s.toString();
    }

    /** The contract: {"cacc", "asr", counts}. */
    public static ObjectNode json(Evaluation e) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("cacc", e.cacc());
        ObjectNode c = o.putObject("clean");
        c.put("total", e.cleanTotal());
        c.put("correct", e.cleanCorrect());
        if (e.target() >= 0) {
            o.put("asr", e.asr());
            o.put("target", e.target());
            ObjectNode t = o.putObject("triggered");
            t.put("total", e.triggeredTotal());
            t.put("non_target", e.asrBase());
            t.put("predicted_target", e.toTarget());
            if (!Double.isNaN(e.labelFlipRate())) {
                t.put("label_flip_rate", e.labelFlipRate());
                t.put("flip_base", e.flipBase());
                t.put("flipped", e.flipped());
            }
        }
        return o;
    }
}
