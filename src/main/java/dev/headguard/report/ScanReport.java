package dev.headguard.report;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.detect.AttentionFeatures;
import dev.headguard.detect.CandidateDirection;
import dev.headguard.detect.HeadMaps;
import dev.headguard.detect.HiddenStateScan;
import dev.headguard.detect.InputScanner;
import dev.headguard.detect.ModelScanner;
import dev.headguard.detect.UnsupportedFlips;
import dev.headguard.model.io.ModelStore;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The two scans' reports: a JSON object for scripts (the field names are a contract) and one
 * self-contained HTML page for people, with per-layer heatmaps of head-to-head similarity on
 * clean versus triggered (or flagged) inputs, the head ranking, the candidate triggers and
 * example inputs with the tokens the suspicious heads attend to.
 */
public final class ScanReport {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Rows of the candidate and head tables, and example inputs, shown in the HTML page. */
    private static final int SHOWN = 15;

    private ScanReport() {}

    // ---------------------------------------------------------------- model scan

    /** A model scan with what the page shows besides it. */
    public record ModelReport(String model, String cleanFile, ModelScanner.Result result, double[][][] cleanMaps, double[][][] triggeredMaps,
                              List<HeadMaps.TokenFocus> examples) {}

    /** Computes the heatmaps and example focus for a finished model scan. */
    public static ModelReport model(ModelStore.LoadedModel m, String cleanFile, ModelScanner.Result r, NDManager root) {
        List<String> victims = r.victimsByClass().get(r.suspectedTarget());
        List<String> triggered = r.strongestExamples();
        double[][][] clean = HeadMaps.meanPairwise(m, victims, root);
        double[][][] trig = HeadMaps.meanPairwise(m, r.triggeredVictims(), root);
        List<int[]> top = new ArrayList<>();
        for (ModelScanner.Head h : r.heads().subList(0, Math.min(3, r.heads().size()))) {
            top.add(new int[] {h.layer(), h.head()});
        }
        List<HeadMaps.TokenFocus> ex = new ArrayList<>();
        for (String t : triggered) {
            ex.add(HeadMaps.focus(m, t, top, root));
        }
        return new ModelReport(m.directory().toString(), cleanFile, r, clean, trig, ex);
    }

    public static ObjectNode json(ModelReport rep) {
        ModelScanner.Result r = rep.result();
        ObjectNode o = JSON.createObjectNode();
        o.put("backdoor", r.backdoor());
        o.put("score", r.score());
        o.put("threshold", r.threshold());
        o.put("suspected_target", r.suspectedTarget());
        o.put("model", rep.model());
        o.put("clean", rep.cleanFile());
        o.put("clean_rows", r.scanner().clean().size());
        o.put("seconds", r.seconds());
        ArrayNode heads = o.putArray("heads");
        for (ModelScanner.Head h : r.heads()) {
            heads.addObject().put("layer", h.layer()).put("head", h.head()).put("similarity_clean", h.similarityClean())
                    .put("similarity_triggered", h.similarityTriggered()).put("jump", h.jump()).put("importance", h.importance())
                    .put("rank_score", h.rankScore());
        }
        ArrayNode layers = o.putArray("layers");
        for (ModelScanner.Layer l : r.layers()) {
            layers.addObject().put("layer", l.layer()).put("similarity_clean", l.similarityClean()).put("similarity_triggered", l.similarityTriggered());
        }
        ArrayNode triggers = o.putArray("triggers");
        for (ModelScanner.Candidate c : r.candidates()) {
            triggers.addObject().put("text", c.text()).put("flip_rate", c.flipRate()).put("flagged_rate", c.flaggedRate())
                    .put("score_shift", c.scoreShift()).put("suspicion", c.suspicion()).put("target", c.target()).put("gradient_rank", c.gradientRank());
        }
        // Common words that flip inputs although the clean texts that use them are not of the class they flip to.
        o.put("evidence", r.unsupportedWins() ? "unsupported_flip" : "trigger_candidate");
        o.put("word_counts_from", r.wordsLabelled() ? "labels" : "predictions");
        ArrayNode unsupported = o.putArray("unsupported_flips");
        for (UnsupportedFlips.Word w : r.unsupported()) {
            unsupported.addObject().put("text", w.text()).put("target", w.target()).put("flip_rate", w.flipRate()).put("clean_uses", w.uses())
                    .put("clean_uses_called_target", w.usesCalledC()).put("base_rate", w.baseRate()).put("doubt", w.doubt()).put("score", w.score());
        }
        ObjectNode input = o.putObject("input_scan");
        input.put("threshold", r.scanner().threshold());
        input.put("frr", r.scanner().settings().frr());
        input.put("features", String.join(",", r.scanner().settings().families().stream().map(f -> f.key).toList()));
        input.put("score", r.scanner().settings().score().key);
        return o;
    }

    public static String html(ModelReport rep) {
        return html(rep, "");
    }

    /** The page, with {@code extra} (e.g. a {@link #populationSection}) at its end. */
    public static String html(ModelReport rep, String extra) {
        ModelScanner.Result r = rep.result();
        ModelScanner.Candidate best = r.candidates().get(0);
        String strongest = r.strongest();
        StringBuilder s = head("HeadGuard model scan");
        s.append("<h1>HeadGuard model scan</h1>");
        s.append("<div class=\"meta\">model ").append(Html.esc(rep.model())).append(" · clean set ").append(Html.esc(rep.cleanFile()))
                .append(" (").append(r.scanner().clean().size()).append(" texts) · ").append(Html.f(r.seconds(), 1)).append(" s</div>");
        s.append("<div class=\"verdict ").append(r.backdoor() ? "bad" : "good").append("\"><b>")
                .append(r.backdoor() ? "Backdoor suspected" : "No backdoor found").append("</b> — score ").append(Html.f(r.score(), 3))
                .append(" (threshold ").append(Html.f(r.threshold(), 2)).append("). ");
        if (r.unsupportedWins()) {
            UnsupportedFlips.Word w = r.unsupported().get(0);
            s.append("Strongest evidence: <b>").append(Html.esc(w.text())).append("</b> as the first word moves ").append(Html.f(100 * w.flipRate(), 0))
                    .append("% of clean inputs to label ").append(w.target()).append(", although only ").append(w.usesCalledC()).append(" of the ")
                    .append(w.uses()).append(" clean texts that use it are ").append(r.wordsLabelled() ? "labelled " : "called ").append(w.target())
                    .append(" (").append(Html.f(100 * w.baseRate(), 0)).append("% of all clean texts).</div>");
        } else {
            s.append("Strongest candidate: <b>").append(Html.esc(best.text())).append("</b> moves ").append(Html.f(100 * best.flipRate(), 0))
                    .append("% of clean inputs to label ").append(best.target()).append(" and sends ").append(Html.f(100 * best.flaggedRate(), 0))
                    .append("% of them outside the heads' clean behaviour.</div>");
        }
        s.append("<p class=\"note\">Score = the larger of two maxima: over candidates, flip rate × flagged rate (a sentiment word can flip predictions; a trigger also ")
                .append("makes heads attend unlike they do on clean text, which the input scan, threshold set at ")
                .append(Html.f(100 * r.scanner().settings().frr(), 0)).append("% false rejections on held-out clean texts, detects); over common words, ")
                .append("flip rate as the first word × how surely the clean texts using the word lean away from the class it flips to, 2·doubt − 1 ")
                .append("(an implicit trigger's anchor, such as a syntactic template's opening word, flips inputs the clean data gives it no reason to flip). ")
                .append("Classes of the clean texts: ").append(r.wordsLabelled() ? "their labels" : "the model's predictions (the clean file has no labels)")
                .append(".</p>");
        s.append("<h2>Candidate triggers</h2><table><tr><th class=l>candidate</th><th>target</th><th>flip rate</th><th>flagged</th><th>score shift</th><th>suspicion</th><th>gradient rank</th></tr>");
        for (ModelScanner.Candidate c : r.candidates().subList(0, Math.min(SHOWN, r.candidates().size()))) {
            s.append("<tr><td class=l>").append(Html.esc(c.text())).append("</td><td>").append(c.target()).append("</td><td>").append(Html.f(c.flipRate(), 3))
                    .append("</td><td>").append(Html.f(c.flaggedRate(), 3)).append("</td><td>").append(Html.f(c.scoreShift(), 2)).append("</td><td>")
                    .append(Html.f(c.suspicion(), 3)).append("</td><td>").append(c.gradientRank() == 0 ? "phrase" : c.gradientRank() == ModelScanner.COMPOSED ? "composed" : String.valueOf(c.gradientRank())).append("</td></tr>");
        }
        s.append("</table>");
        if (!r.unsupported().isEmpty()) {
            s.append("<h2>Common words that flip without support</h2><table><tr><th class=l>word</th><th>target</th><th>flip rate (first word)</th>")
                    .append("<th>clean texts using it</th><th>of them ").append(r.wordsLabelled() ? "labelled" : "called").append(" target</th><th>base rate</th><th>doubt</th><th>score</th></tr>");
            for (UnsupportedFlips.Word w : r.unsupported().subList(0, Math.min(SHOWN, r.unsupported().size()))) {
                s.append("<tr><td class=l>").append(Html.esc(w.text())).append("</td><td>").append(w.target()).append("</td><td>").append(Html.f(w.flipRate(), 3))
                        .append("</td><td>").append(w.uses()).append("</td><td>").append(w.usesCalledC()).append("</td><td>").append(Html.f(w.baseRate(), 3))
                        .append("</td><td>").append(Html.f(w.doubt(), 3)).append("</td><td>").append(Html.f(w.score(), 3)).append("</td></tr>");
            }
            s.append("</table>");
        }
        s.append("<h2>Heads that carry it</h2><p class=note>Ranked by the change of each head's similarity to the rest of its layer under '")
                .append(Html.esc(strongest)).append("' (in clean standard deviations) times its importance |∂loss/∂scale| for the prediction, normalised.</p>");
        s.append("<table><tr><th>layer</th><th>head</th><th>similarity clean</th><th>with trigger</th><th>jump</th><th>importance</th><th>rank score</th></tr>");
        for (ModelScanner.Head h : r.heads().subList(0, Math.min(SHOWN, r.heads().size()))) {
            s.append("<tr><td>").append(h.layer()).append("</td><td>").append(h.head()).append("</td><td>").append(Html.f(h.similarityClean(), 3))
                    .append("</td><td>").append(Html.f(h.similarityTriggered(), 3)).append("</td><td>").append(Html.f(h.jump(), 3)).append("</td><td>")
                    .append(Html.f(h.importance(), 4)).append("</td><td>").append(Html.f(h.rankScore(), 3)).append("</td></tr>");
        }
        s.append("</table>");
        s.append("<h2>Head-to-head similarity per layer</h2><p class=note>Mean cosine between the attention maps of every pair of heads: on ")
                .append(r.victimsByClass().get(r.suspectedTarget()).size()).append(" clean inputs, with '").append(Html.esc(strongest))
                .append("' inserted, and the difference (red: heads became more alike).</p>");
        maps(s, rep.cleanMaps(), rep.triggeredMaps(), "clean", "with candidate", r.layers().stream().map(l -> new double[] {l.similarityClean(), l.similarityTriggered()}).toList());
        s.append("<h2>Example inputs</h2><p class=note>Token colour: attention from the [CLS] row of the top three heads.</p>");
        for (HeadMaps.TokenFocus f : rep.examples()) {
            s.append("<div class=ex>").append(Html.tokens(f.tokens(), f.weight())).append("</div>");
        }
        return s.append(extra).append("</body></html>\n").toString();
    }

    // ---------------------------------------------------------------- input scan

    /**
     * An input scan with what the page shows besides it.
     *
     * @param order input indices sorted by score, most suspicious first
     */
    public record InputsReport(String model, String cleanFile, String inputsFile, List<String> texts, InputScanner.Scores scores, double threshold,
                               double frr, double[] calibrationScores, double[][][] cleanMaps, double[][][] flaggedMaps, List<HeadMaps.TokenFocus> examples,
                               List<Integer> order, double seconds) {}

    public static InputsReport inputs(ModelStore.LoadedModel m, InputScanner scanner, String cleanFile, String inputsFile, List<String> cleanTexts,
                                      List<String> texts, InputScanner.Scores scores, double seconds, NDManager root) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            order.add(i);
        }
        order.sort(Comparator.comparingDouble(i -> -scores.scores()[i]));
        List<String> flagged = new ArrayList<>();
        for (int i : order) {
            if (scores.flagged()[i] && flagged.size() < 200) {
                flagged.add(texts.get(i));
            }
        }
        double[][][] cleanMaps = HeadMaps.meanPairwise(m, cleanTexts.subList(0, Math.min(200, cleanTexts.size())), root);
        double[][][] flaggedMaps = HeadMaps.meanPairwise(m, flagged, root);
        List<HeadMaps.TokenFocus> ex = new ArrayList<>();
        for (int i : order.subList(0, Math.min(8, order.size()))) {
            if (scores.flagged()[i]) {
                ex.add(HeadMaps.focus(m, texts.get(i), mostDeviatingHeads(scanner, scores.probe().features()[i], 3), root));
            }
        }
        return new InputsReport(m.directory().toString(), cleanFile, inputsFile, texts, scores, scanner.threshold(), scanner.settings().frr(),
                scanner.calibrationScores(), cleanMaps, flaggedMaps, ex, order, seconds);
    }

    /** The heads whose own statistics (head similarity, [CLS] entropy) sit furthest from clean for this input. */
    static List<int[]> mostDeviatingHeads(InputScanner scanner, float[] x, int k) {
        AttentionFeatures f = scanner.features();
        double[] z = scanner.profile().z(x);
        List<double[]> heads = new ArrayList<>();
        for (int l = 0; l < f.layers(); l++) {
            for (int h = 0; h < f.heads(); h++) {
                double worst = 0;
                for (AttentionFeatures.Family fam : f.families()) {
                    if (fam != AttentionFeatures.Family.LAYER_COSINE) {
                        worst = Math.max(worst, Math.abs(z[f.index(fam, l, h)]));
                    }
                }
                heads.add(new double[] {l, h, worst});
            }
        }
        heads.sort(Comparator.comparingDouble(a -> -a[2]));
        List<int[]> out = new ArrayList<>();
        for (double[] a : heads.subList(0, Math.min(k, heads.size()))) {
            out.add(new int[] {(int) a[0], (int) a[1]});
        }
        return out;
    }

    public static ObjectNode json(InputsReport rep) {
        ObjectNode o = JSON.createObjectNode();
        o.put("threshold", rep.threshold());
        o.put("frr", rep.frr());
        o.put("model", rep.model());
        o.put("clean", rep.cleanFile());
        o.put("file", rep.inputsFile());
        o.put("flagged", rep.scores().flaggedCount());
        o.put("seconds", rep.seconds());
        ArrayNode arr = o.putArray("inputs");
        int[] pred = rep.scores().probe().predictions();
        for (int i = 0; i < rep.texts().size(); i++) {
            arr.addObject().put("index", i).put("score", rep.scores().scores()[i]).put("flagged", rep.scores().flagged()[i]).put("prediction", pred[i]);
        }
        return o;
    }

    /** Index, score, flagged, prediction and text per input, tab-separated, for spreadsheets and pandas. */
    public static String tsv(InputsReport rep) {
        return tsv(rep, java.util.Map.of());
    }

    /**
     * The scores as TSV, with one more column per entry of {@code extra} (e.g. the hidden-state scans'
     * margins) after {@code prediction}; a non-finite value (an input a scan does not score) is left
     * empty, which pandas reads as NaN.
     */
    public static String tsv(InputsReport rep, java.util.Map<String, double[]> extra) {
        StringBuilder s = new StringBuilder("index\tscore\tflagged\tprediction\t");
        for (String k : extra.keySet()) {
            s.append(k).append('\t');
        }
        s.append("sentence\n");
        int[] pred = rep.scores().probe().predictions();
        for (int i = 0; i < rep.texts().size(); i++) {
            s.append(i).append('\t').append(String.format(Locale.ROOT, "%.6g", rep.scores().scores()[i])).append('\t')
                    .append(rep.scores().flagged()[i] ? 1 : 0).append('\t').append(pred[i]).append('\t');
            for (double[] v : extra.values()) {
                if (Double.isFinite(v[i])) {
                    s.append(String.format(Locale.ROOT, "%.6g", v[i]));
                }
                s.append('\t');
            }
            s.append(rep.texts().get(i).replace('\t', ' ').replace('\n', ' ')).append('\n');
        }
        return s.toString();
    }

    public static String html(InputsReport rep) {
        return html(rep, "");
    }

    /** The page, with {@code extra} (e.g. a {@link #populationSection} or {@link #directionSection}) at its end. */
    public static String html(InputsReport rep, String extra) {
        int n = rep.texts().size();
        int flagged = rep.scores().flaggedCount();
        StringBuilder s = head("HeadGuard input scan");
        s.append("<h1>HeadGuard input scan</h1>");
        s.append("<div class=\"meta\">model ").append(Html.esc(rep.model())).append(" · inputs ").append(Html.esc(rep.inputsFile()))
                .append(" · clean set ").append(Html.esc(rep.cleanFile())).append(" · ").append(Html.f(rep.seconds(), 1)).append(" s</div>");
        s.append("<div class=\"verdict ").append(flagged > 0 ? "bad" : "good").append("\"><b>").append(flagged).append(" of ").append(n)
                .append(" inputs flagged</b> (").append(Html.f(100.0 * flagged / Math.max(1, n), 1)).append("%); threshold ")
                .append(Html.f(rep.threshold(), 3)).append(", set so that ").append(Html.f(100 * rep.frr(), 0))
                .append("% of held-out clean texts would be flagged.</div>");
        s.append("<h2>Scores</h2>").append(Html.histogram(rep.calibrationScores(), rep.scores().scores(), rep.threshold(), "held-out clean", "inputs"));
        s.append("<h2>Head-to-head similarity per layer</h2><p class=note>Mean cosine between the attention maps of every pair of heads on clean texts, on the flagged inputs, and the difference.</p>");
        maps(s, rep.cleanMaps(), rep.flaggedMaps(), "clean", "flagged", null);
        s.append("<h2>Most suspicious inputs</h2><p class=note>Token colour: attention from the [CLS] row of the three heads furthest from their clean behaviour on that input.</p>");
        for (HeadMaps.TokenFocus f : rep.examples()) {
            s.append("<div class=ex>").append(Html.tokens(f.tokens(), f.weight())).append("</div>");
        }
        s.append("<table><tr><th>#</th><th>score</th><th>prediction</th><th class=l>text</th></tr>");
        int[] pred = rep.scores().probe().predictions();
        for (int i : rep.order().subList(0, Math.min(SHOWN * 2, rep.order().size()))) {
            if (!rep.scores().flagged()[i]) {
                break;
            }
            s.append("<tr><td>").append(i).append("</td><td>").append(Html.f(rep.scores().scores()[i], 3)).append("</td><td>").append(pred[i])
                    .append("</td><td class=l>").append(Html.esc(rep.texts().get(i))).append("</td></tr>");
        }
        s.append("</table>");
        return s.append(extra).append("</body></html>\n").toString();
    }

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

    /** Indices of the inputs scored above 0 (flagged), highest first. */
    private static List<Integer> flaggedFirst(double[] scores) {
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
    private static String flaggedTable(StringBuilder s, List<Integer> order, double[] scores, String column, List<String> texts) {
        s.append("<table><tr><th>#</th><th>").append(column).append("</th><th class=l>text</th></tr>");
        for (int i : order.subList(0, Math.min(SHOWN * 2, order.size()))) {
            s.append("<tr><td>").append(i).append("</td><td>").append(Html.f(scores[i], 2)).append("</td><td class=l>").append(Html.esc(texts.get(i))).append("</td></tr>");
        }
        return s.append("</table>").toString();
    }

    // ---------------------------------------------------------------- shared

    private static StringBuilder head(String title) {
        return new StringBuilder("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>").append(Html.esc(title))
                .append("</title><style>").append(Html.STYLE).append("</style></head><body>");
    }

    private static void maps(StringBuilder s, double[][][] a, double[][][] b, String aName, String bName, List<double[]> layerMeans) {
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
