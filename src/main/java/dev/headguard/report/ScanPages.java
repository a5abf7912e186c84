package dev.headguard.report;

import dev.headguard.detect.hidden.CandidateDirection;
import dev.headguard.detect.hidden.HiddenStateScan;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The parts both scan pages share: the page head, per-layer heatmaps, and the sections of the optional scans. */
public final class ScanPages {
    /** Rows of the candidate and head tables, and example inputs, shown in a page. */
    static final int SHOWN = 15;

    private ScanPages() {}

    /** The hidden-state scan of a set of inputs as one population, with the words found in its flagged inputs (null: not looked for). */
    public static String populationSection(String what, HiddenStateScan.Result pop, double frr, List<String> words) {
        boolean found = pop.found(frr, HiddenStateScan.MIN_EXCESS);
        StringBuilder s = new StringBuilder("<h2>").append(Html.esc(what)).append(" as a population</h2>");
        s.append("<div class=\"verdict ").append(found ? "bad" : "good").append("\"><b>").append(found ? "A poisoned population" : "No population")
                .append("</b>: ").append(pop.flagged().size()).append(" of the ").append(pop.targetPredicted()).append(" inputs predicted ").append(pop.target())
                .append(" flagged (").append(Html.f(100 * pop.share(), 1)).append("%, ").append(Html.f(pop.excess(frr), 1)).append("× the ")
                .append(Html.f(100 * frr, 0)).append("% expected of clean inputs; a population needs ").append(HiddenStateScan.MIN_FLAGGED)
                .append(" flags and ").append(Html.f(HiddenStateScan.MIN_EXCESS, 0)).append("×).</div>");
        s.append("<p class=note>The [CLS] state of layer ").append(pop.layer()).append(", projected on the direction along which these inputs stand apart ")
                .append("from clean inputs of the same predicted class: implicit triggers (syntax, style) move it even where the heads' attention does not change.");
        if (words != null) {
            s.append(" Words found almost only in inputs the attention scan flags: <b>").append(words.isEmpty() ? "none" : Html.esc(String.join(", ", words))).append("</b>.");
        }
        return s.append("</p>").toString();
    }

    /** The inputs scored along a direction learned from a suspect set: the summary and the most flagged inputs. */
    public static String directionSection(HiddenStateScan.Learned learned, int suspects, double frr, double[] margins, List<String> texts) {
        boolean found = learned.scan().found(frr, HiddenStateScan.MIN_EXCESS);
        List<Integer> order = flaggedFirst(margins);
        int flagged = order.size();
        StringBuilder s = new StringBuilder("<h2>Along the hidden-state direction of the suspects</h2>");
        s.append("<div class=\"verdict ").append(found && flagged > 0 ? "bad" : "good").append("\"><b>").append(flagged).append(" of ").append(margins.length)
                .append(" inputs flagged</b> along the direction learned from ").append(suspects).append(" suspects (layer ").append(learned.direction().layer())
                .append(", class ").append(learned.direction().target()).append("; ")
                .append(found ? "they held a poisoned population" : "they held no population, so the direction is noise and its flags are false rejections")
                .append("). Threshold: ").append(Html.f(100 * frr, 0)).append("% of held-out clean inputs of that class.</div>");
        return flaggedTable(s, order, margins, "margin (sd)", texts);
    }

    /**
     * The filter the model scan's evidence chose ({@code scan inputs --scan}): which detector, why (how
     * many of the evidence-carrying clean texts each flagged), and the inputs it flags, highest first.
     */
    public static String scanFilterSection(CandidateDirection.Evidence evidence, CandidateDirection.Choice choice, HiddenStateScan.Learned learned, double frr,
                                           double[] scores, List<String> texts) {
        List<Integer> order = flaggedFirst(scores);
        StringBuilder s = new StringBuilder("<h2>The filter the model scan's evidence chose</h2>");
        s.append("<div class=\"verdict ").append(order.isEmpty() ? "good" : "bad").append("\"><b>").append(order.size()).append(" of ").append(scores.length)
                .append(" inputs flagged</b> by the ").append(choice.direction()
                        ? "hidden-state direction (layer " + learned.direction().layer() + ", class " + learned.direction().target() + ")"
                        : "attention scan")
                .append(". The clean texts with the scan's <code>").append(Html.esc(evidence.text())).append("</code>")
                .append(evidence.firstWord() ? " as first word" : " inserted").append(": the attention scan flags ").append(choice.attentionFlagged())
                .append(" of them, the direction they move along ").append(choice.directionFlagged())
                .append("; the one that flags more is the one that sees this backdoor. Threshold: ").append(Html.f(100 * frr, 0))
                .append("% of held-out clean inputs.</div>");
        return flaggedTable(s, order, scores, "score (sd)", texts);
    }

    /**
     * The combined filter ({@code scan inputs --combined}): how many inputs it flags at the FRR asked
     * for, and the most flagged first by its score (the larger of the two margins).
     */
    public static String combinedSection(double frr, double[] scores, List<String> texts) {
        List<Integer> order = flaggedFirst(scores);
        StringBuilder s = new StringBuilder("<h2>One filter: the attention scan or the direction, each at half the rate</h2>");
        s.append("<div class=\"verdict ").append(order.isEmpty() ? "good" : "bad").append("\"><b>").append(order.size()).append(" of ").append(scores.length)
                .append(" inputs flagged</b> by the combined filter, set to reject at most ").append(Html.f(100 * frr, 0))
                .append("% of clean inputs (each half at ").append(Html.f(100 * frr / 2, 1)).append("%; the two lists above are each set at the full rate).</div>");
        return flaggedTable(s, order, scores, "score (sd)", texts);
    }

    /**
     * A decoder's target filter ({@code scan inputs} with a model scan): how many prompts make the
     * elicited output likelier than the clean prompts' (1 − FRR) quantile does, the most likely first.
     */
    public static String targetFilterSection(String target, double threshold, double frr, double[] scores, List<String> texts) {
        double[] margins = new double[scores.length];
        for (int i = 0; i < scores.length; i++) {
            margins[i] = scores[i] - threshold;
        }
        List<Integer> order = flaggedFirst(margins);
        StringBuilder s = new StringBuilder("<h2>The output the model scan elicited</h2>");
        s.append("<div class=\"verdict ").append(order.isEmpty() ? "good" : "bad").append("\"><b>").append(order.size()).append(" of ").append(scores.length)
                .append(" prompts flagged</b>: they make <code>").append(Html.esc(target)).append("</code> likelier (mean log-probability of its tokens ")
                .append("after the prompt) than all but ").append(Html.f(100 * frr, 0)).append("% of the clean prompts do (threshold ")
                .append(Html.f(threshold, 3)).append(").</div>");
        return flaggedTable(s, order, margins, "log p above threshold", texts);
    }

    /** Indices of the inputs scored above 0 (flagged), highest first. */
    static List<Integer> flaggedFirst(double[] scores) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < scores.length; i++) {
            if (scores[i] > 0) {
                order.add(i);
            }
        }
        order.sort(Comparator.comparingDouble((Integer i) -> -scores[i]));
        return order;
    }

    /** The first flagged inputs as a table (index, score, text) closing the section. */
    static String flaggedTable(StringBuilder s, List<Integer> order, double[] scores, String column, List<String> texts) {
        s.append("<table><tr><th>#</th><th>").append(column).append("</th><th class=l>text</th></tr>");
        for (int i : order.subList(0, Math.min(SHOWN * 2, order.size()))) {
            s.append("<tr><td>").append(i).append("</td><td>").append(Html.f(scores[i], 2)).append("</td><td class=l>").append(Html.esc(texts.get(i))).append("</td></tr>");
        }
        return s.append("</table>").toString();
    }

    /** The head ranking as a table, best first ({@link #SHOWN} rows); {@code with} names the triggered column. */
    static void headsTable(StringBuilder s, List<dev.headguard.detect.search.ModelScanner.Head> heads, String with) {
        s.append("<table><tr><th>layer</th><th>head</th><th>similarity clean</th><th>").append(with)
                .append("</th><th>jump</th><th>importance</th><th>rank score</th></tr>");
        for (dev.headguard.detect.search.ModelScanner.Head h : heads.subList(0, Math.min(SHOWN, heads.size()))) {
            s.append("<tr><td>").append(h.layer()).append("</td><td>").append(h.head()).append("</td><td>").append(Html.f(h.similarityClean(), 3))
                    .append("</td><td>").append(Html.f(h.similarityTriggered(), 3)).append("</td><td>").append(Html.f(h.jump(), 3)).append("</td><td>")
                    .append(Html.f(h.importance(), 4)).append("</td><td>").append(Html.f(h.rankScore(), 3)).append("</td></tr>");
        }
        s.append("</table>");
    }

    static StringBuilder head(String title) {
        return new StringBuilder("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(Html.esc(title))
                .append("</title><style>").append(Html.STYLE).append("</style></head><body>");
    }

    static void maps(StringBuilder s, double[][][] a, double[][][] b, String aName, String bName, List<double[]> layerMeans) {
        for (int l = 0; l < a.length; l++) {
            int n = a[l].length;
            double[][] d = new double[n][n];
            double scale = 0.05;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    d[i][j] = b[l][i][j] - a[l][i][j];
                    scale = Math.max(scale, Math.abs(d[i][j]));
                }
            }
            String title = "layer " + l + (layerMeans == null ? "" : " · mean similarity " + Html.f(layerMeans.get(l)[0], 3) + " → " + Html.f(layerMeans.get(l)[1], 3));
            s.append("<h3 style=\"font-size:14px;margin:14px 0 4px\">").append(title).append("</h3><div class=maps>");
            s.append("<div class=map><h3>").append(aName).append("</h3>").append(Html.heatmap(a[l], false, 1)).append("</div>");
            s.append("<div class=map><h3>").append(bName).append("</h3>").append(Html.heatmap(b[l], false, 1)).append("</div>");
            s.append("<div class=map><h3>difference (±").append(Html.f(scale, 2)).append(")</h3>").append(Html.heatmap(d, true, scale)).append("</div>");
            s.append("</div>");
        }
    }
}
