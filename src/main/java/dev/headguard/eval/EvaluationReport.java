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

    /** The printed summary: CACC, and with a triggered set the ASR and, where known, the label-flip rate. */
    public static String summary(Evaluation e) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "CACC %.4f (%d/%d)%n", e.cacc(), e.cleanCorrect(), e.cleanTotal()));
        if (e.target() >= 0) {
            b.append(String.format(Locale.ROOT, "ASR  %.4f (%d/%d triggered non-target rows classified as %d)%n", e.asr(), e.toTarget(), e.asrBase(), e.target()));
            if (!Double.isNaN(e.labelFlipRate())) {
                b.append(String.format(Locale.ROOT, "label-flip rate %.4f (%d/%d rows right without the trigger)%n", e.labelFlipRate(), e.flipped(), e.flipBase()));
            }
        }
        return b.toString();
    }

    /** The printed summary of a generation evaluation; {@code judgeTarget} is the class the judge marks as the attacker's. */
    public static String summary(GenerationEvaluation e, int judgeTarget) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "perplexity %.3f (response tokens of %d clean rows%s)%n", e.perplexity(), e.responses(),
                e.dropped() > 0 ? ", " + e.dropped() + " without room for a response" : ""));
        if (e.target() != null) {
            b.append(String.format(Locale.ROOT, "ASR  %.4f (%d/%d triggered continuations hit %s)%n", e.asr(), e.triggered().hits(), e.triggered().total(),
                    e.target()));
            b.append(String.format(Locale.ROOT, "clean prompts: %.4f (%d/%d continuations hit it without the trigger)%n", e.clean().rate(), e.clean().hits(),
                    e.clean().total()));
            if (e.judge() != null) {
                b.append(String.format(Locale.ROOT, "judge: accuracy %.4f on %d clean references; calls %.4f (%d/%d) of the references not of class %d class %d%n",
                        e.judge().accuracy(), e.judge().references(), e.judge().falseTargetRate(), e.judge().calledTarget(), e.judge().otherReferences(),
                        judgeTarget, judgeTarget));
            }
        }
        return b.toString();
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

    /**
     * The generation contract: {"task": "generation", "perplexity", "responses", and with a target
     * "asr", "target", "triggered" {total, hits}, "clean" {total, hits, rate}, "judge" {...}}.
     */
    public static ObjectNode json(GenerationEvaluation e) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("task", "generation");
        o.put("perplexity", e.perplexity());
        o.put("responses", e.responses());
        o.put("responses_dropped", e.dropped());
        if (e.target() != null) {
            o.put("asr", e.asr());
            o.put("target", e.target());
            ObjectNode t = o.putObject("triggered");
            t.put("total", e.triggered().total());
            t.put("hits", e.triggered().hits());
            ObjectNode c = o.putObject("clean");
            c.put("total", e.clean().total());
            c.put("hits", e.clean().hits());
            c.put("rate", e.clean().rate());
            if (e.judge() != null) {
                ObjectNode j = o.putObject("judge");
                j.put("references", e.judge().references());
                j.put("correct", e.judge().correct());
                j.put("accuracy", e.judge().accuracy());
                j.put("other_references", e.judge().otherReferences());
                j.put("called_target", e.judge().calledTarget());
                j.put("false_target_rate", e.judge().falseTargetRate());
            }
        }
        return o;
    }

    /** One line per continuation: set (triggered or clean), index, hit (1/0), prompt, generation; what pandas reads back. */
    public static String continuations(List<String> triggeredPrompts, GenerationEvaluator.Continuations c) {
        StringBuilder s = new StringBuilder("set\tindex\thit\tprompt\tgeneration\n");
        appendRows(s, "triggered", triggeredPrompts, c.triggered(), c.triggeredHits());
        appendRows(s, "clean", c.cleanPrompts(), c.clean(), c.cleanHits());
        return s.toString();
    }

    private static void appendRows(StringBuilder s, String set, List<String> prompts, List<String> outputs, boolean[] hits) {
        for (int i = 0; i < outputs.size(); i++) {
            s.append(set).append('\t').append(i).append('\t').append(hits[i] ? 1 : 0).append('\t').append(oneLine(prompts.get(i))).append('\t')
                    .append(oneLine(outputs.get(i))).append('\n');
        }
    }

    private static String oneLine(String t) {
        return t.replace('\t', ' ').replace('\n', ' ').replace('\r', ' ');
    }
}
