package dev.headguard.report;

import ai.djl.ndarray.NDManager;
import dev.headguard.detect.attention.HeadMaps;
import dev.headguard.detect.hidden.HiddenStateScan;
import dev.headguard.detect.ModelAudit;
import dev.headguard.detect.search.ModelScanner;
import dev.headguard.detect.search.UnsupportedFlips;
import dev.headguard.model.io.ModelStore;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A model scan for people: one self-contained HTML page (per-layer heatmaps of head-to-head
 * similarity on clean inputs and with the strongest candidate, the head ranking, the candidates,
 * example inputs with the tokens the top heads attend to) and the terminal summary.
 */
public final class ModelScanPage {
    private ModelScanPage() {}

    /** What the page shows beside the scan; computed only when a page is asked for (it costs model passes). */
    public record Maps(double[][][] clean, double[][][] triggered, List<HeadMaps.TokenFocus> examples) {}

    /** Computes the heatmaps and example focus for a finished model scan. */
    public static Maps maps(ModelStore.LoadedModel m, ModelScanner.Result r, NDManager root) {
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
        return new Maps(clean, trig, ex);
    }

    /** The page, with {@code extra} (e.g. a {@link ScanPages#populationSection}) at its end. */
    public static String html(String model, String cleanFile, ModelScanner.Result r, Maps maps, String extra) {
        ModelScanner.Candidate best = r.candidates().get(0);
        String strongest = r.strongest();
        StringBuilder s = ScanPages.head("HeadGuard model scan");
        s.append("<h1>HeadGuard model scan</h1>");
        s.append("<div class=\"meta\">model ").append(Html.esc(model)).append(" · clean set ").append(Html.esc(cleanFile))
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
        for (ModelScanner.Candidate c : r.candidates().subList(0, Math.min(ScanPages.SHOWN, r.candidates().size()))) {
            s.append("<tr><td class=l>").append(Html.esc(c.text())).append("</td><td>").append(c.target()).append("</td><td>").append(Html.f(c.flipRate(), 3))
                    .append("</td><td>").append(Html.f(c.flaggedRate(), 3)).append("</td><td>").append(Html.f(c.scoreShift(), 2)).append("</td><td>")
                    .append(Html.f(c.suspicion(), 3)).append("</td><td>").append(c.gradientRank() == 0 ? "phrase" : c.gradientRank() == ModelScanner.COMPOSED ? "composed" : String.valueOf(c.gradientRank())).append("</td></tr>");
        }
        s.append("</table>");
        if (!r.unsupported().isEmpty()) {
            s.append("<h2>Common words that flip without support</h2><table><tr><th class=l>word</th><th>target</th><th>flip rate (first word)</th>")
                    .append("<th>clean texts using it</th><th>of them ").append(r.wordsLabelled() ? "labelled" : "called").append(" target</th><th>base rate</th><th>doubt</th><th>score</th></tr>");
            for (UnsupportedFlips.Word w : r.unsupported().subList(0, Math.min(ScanPages.SHOWN, r.unsupported().size()))) {
                s.append("<tr><td class=l>").append(Html.esc(w.text())).append("</td><td>").append(w.target()).append("</td><td>").append(Html.f(w.flipRate(), 3))
                        .append("</td><td>").append(w.uses()).append("</td><td>").append(w.usesCalledC()).append("</td><td>").append(Html.f(w.baseRate(), 3))
                        .append("</td><td>").append(Html.f(w.doubt(), 3)).append("</td><td>").append(Html.f(w.score(), 3)).append("</td></tr>");
            }
            s.append("</table>");
        }
        s.append("<h2>Heads that carry it</h2><p class=note>Ranked by the change of each head's similarity to the rest of its layer under '")
                .append(Html.esc(strongest)).append("' (in clean standard deviations) times its importance |∂loss/∂scale| for the prediction, normalised.</p>");
        ScanPages.headsTable(s, r.heads(), "with trigger");
        s.append("<h2>Head-to-head similarity per layer</h2><p class=note>Mean cosine between the attention maps of every pair of heads: on ")
                .append(r.victimsByClass().get(r.suspectedTarget()).size()).append(" clean inputs, with '").append(Html.esc(strongest))
                .append("' inserted, and the difference (red: heads became more alike).</p>");
        ScanPages.maps(s, maps.clean(), maps.triggered(), "clean", "with candidate", r.layers().stream().map(l -> new double[] {l.similarityClean(), l.similarityTriggered()}).toList());
        s.append("<h2>Example inputs</h2><p class=note>Token colour: attention from the [CLS] row of the top three heads.</p>");
        for (HeadMaps.TokenFocus f : maps.examples()) {
            s.append("<div class=ex>").append(Html.tokens(f.tokens(), f.weight())).append("</div>");
        }
        return s.append(extra).append("</body></html>\n").toString();
    }

    /** The terminal summary of {@code scan model}: the verdict, candidates, unsupported words, heads, and the suspects' verdict when given. */
    public static String summary(String model, int cleanCount, ModelAudit.Result audit, double frr, List<String> words) {
        ModelScanner.Result r = audit.search();
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "%s: %s (score %.3f, threshold %.2f; %d clean texts, %.1f s)%n", model,
                r.backdoor() ? "BACKDOOR SUSPECTED" : "no backdoor found", r.score(), r.threshold(), cleanCount, r.seconds()));
        s.append(String.format("candidate triggers (flip rate to the label, share flagged by the input scan):%n"));
        for (ModelScanner.Candidate c : r.candidates().subList(0, Math.min(8, r.candidates().size()))) {
            s.append(String.format(Locale.ROOT, "  %-24s -> label %d  flips %5.1f%%  flagged %5.1f%%  suspicion %.3f%n", "'" + c.text() + "'", c.target(),
                    100 * c.flipRate(), 100 * c.flaggedRate(), c.suspicion()));
        }
        if (!r.unsupported().isEmpty()) {
            s.append(String.format("common words that flip without support in the clean texts (flip rate as the first word; of the clean texts using it, those %s that label):%n",
                    r.wordsLabelled() ? "labelled" : "called"));
            for (UnsupportedFlips.Word w : r.unsupported().subList(0, Math.min(4, r.unsupported().size()))) {
                s.append(String.format(Locale.ROOT, "  %-24s -> label %d  flips %5.1f%%  %d of %d (base %.0f%%)  doubt %.3f  score %.3f%n", "'" + w.text() + "'", w.target(),
                        100 * w.flipRate(), w.usesCalledC(), w.uses(), 100 * w.baseRate(), w.doubt(), w.score()));
            }
        }
        s.append(String.format("heads most changed by '%s' (layer:head, similarity clean -> with it, importance):%n", r.strongest()));
        for (ModelScanner.Head h : r.heads().subList(0, Math.min(6, r.heads().size()))) {
            s.append(String.format(Locale.ROOT, "  L%d:H%-3d %.3f -> %.3f  importance %.4f%n", h.layer(), h.head(), h.similarityClean(), h.similarityTriggered(), h.importance()));
        }
        if (audit.suspects() != null) {
            HiddenStateScan.Result pop = audit.suspects().hidden();
            s.append(String.format(Locale.ROOT, "suspects as a population (hidden-state shift, layer %d): %d of the %d predicted %d flagged (%.1fx the %.0f%% expected of clean inputs): %s%n",
                    pop.layer(), pop.flagged().size(), pop.targetPredicted(), pop.target(), pop.excess(frr), 100 * frr,
                    pop.found(frr, HiddenStateScan.MIN_EXCESS) ? "a poisoned population" : "no population"));
            s.append(String.format("words found almost only in flagged suspects: %s%n", words.isEmpty() ? "none" : String.join(", ", words)));
            s.append(String.format(Locale.ROOT, "verdict with the suspects: %s (score %.3f)%n", audit.backdoor() ? "BACKDOOR SUSPECTED" : "no backdoor found", audit.score()));
        }
        return s.toString();
    }
}
