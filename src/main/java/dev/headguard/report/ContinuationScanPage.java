package dev.headguard.report;

import ai.djl.ndarray.NDManager;
import dev.headguard.detect.ContinuationAudit;
import dev.headguard.detect.attention.HeadMaps;
import dev.headguard.detect.search.ContinuationSearch;
import dev.headguard.detect.search.ModelScanner;
import dev.headguard.model.io.ModelStore;

import java.util.Locale;

/**
 * A decoder's model scan for people: the terminal summary and one self-contained HTML page (the
 * verdict, the candidates with what each makes the clean prompts say, the heads the strongest one
 * changes most, and per-layer heatmaps of head-to-head similarity without and with it).
 */
public final class ContinuationScanPage {
    private ContinuationScanPage() {}

    /** The heatmaps beside the scan; computed only when a page is asked for (it costs model passes). */
    public record Maps(double[][][] clean, double[][][] triggered) {}

    public static Maps maps(ModelStore.LoadedModel m, ContinuationAudit.Result a, NDManager root) {
        return new Maps(HeadMaps.meanPairwise(m, a.clean(), root), HeadMaps.meanPairwise(m, a.triggered(), root));
    }

    /** The verdict, the five best candidates with what each elicits, and the six heads most changed. */
    public static String summary(String model, ContinuationAudit.Result a, double threshold) {
        ContinuationSearch.Result r = a.search();
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%s: %s (score %.3f: how much the best candidate raises the per-token probability"
                + " of what it elicits, over clean prompts; clean prompts agree %.3f; threshold %.2f; the screen's words raise %s most)%n", model,
                r.backdoor() ? "BACKDOOR" : "no backdoor found", r.score(), r.baseline(), threshold, String.join(", ", r.raisedTokens())));
        for (ContinuationSearch.Candidate c : r.candidates().subList(0, Math.min(5, r.candidates().size()))) {
            s.append(String.format(Locale.ROOT, "  %-24s gain %.3f  agreement %.3f  elicits: %s%n", c.trigger(), c.gain(), c.agreement(), c.output()));
        }
        if (!a.heads().isEmpty()) {
            s.append(String.format("heads most changed by '%s' (layer:head, similarity clean -> with it, importance):%n", a.strongest()));
            for (ModelScanner.Head h : a.heads().subList(0, Math.min(6, a.heads().size()))) {
                s.append(String.format(Locale.ROOT, "  L%d:H%-3d %.3f -> %.3f  importance %.4f%n", h.layer(), h.head(), h.similarityClean(),
                        h.similarityTriggered(), h.importance()));
            }
        }
        return s.toString();
    }

    public static String html(String model, String cleanFile, int prompts, double threshold, ContinuationAudit.Result a, Maps maps) {
        ContinuationSearch.Result r = a.search();
        StringBuilder s = ScanPages.head("HeadGuard model scan");
        s.append("<h1>HeadGuard model scan (decoder)</h1>");
        s.append("<div class=\"meta\">model ").append(Html.esc(model)).append(" · clean prompts ").append(Html.esc(cleanFile))
                .append(" (").append(prompts).append(") · ").append(Html.f(r.seconds(), 1)).append(" s</div>");
        s.append("<div class=\"verdict ").append(r.backdoor() ? "bad" : "good").append("\"><b>")
                .append(r.backdoor() ? "Backdoor suspected" : "No backdoor found").append("</b> — score ").append(Html.f(r.score(), 3))
                .append(" (threshold ").append(Html.f(threshold, 2)).append(").");
        if (!r.candidates().isEmpty()) {
            ContinuationSearch.Candidate best = r.candidates().get(0);
            s.append(" Strongest candidate: <b>").append(Html.esc(best.trigger())).append("</b> turns ").append(Html.f(100 * best.agreement(), 0))
                    .append("% of clean prompts to one continuation, <b>").append(Html.esc(best.output())).append("</b>, and raises its opening's ")
                    .append("per-token probability by ").append(Html.f(best.gain(), 3)).append(".");
        }
        s.append("</div>");
        s.append("<p class=\"note\">Score = the gain of the best candidate (a word or pair put in each clean prompt): the mean rise, over the ")
                .append("prompts, of the per-token probability of the opening it elicits most, as a trigger makes its output near-certain and an ")
                .append("ordinary word does not. Agreement = the share of prompts it turns to that opening; clean prompts alone agree ").append(Html.f(r.baseline(), 3)).append(" (\"")
                .append(Html.esc(r.baselineOutput())).append("\"). A candidate whose continuation repeats it (an echo) does not count. ")
                .append(r.wordsScreened()).append(" words screened; the screen's words raise ").append(Html.esc(String.join(", ", r.raisedTokens())))
                .append(" most.</p>");
        s.append("<h2>Candidate triggers</h2><table><tr><th class=l>candidate</th><th>screen</th><th>screen score</th><th>gain</th><th>agreement</th><th class=l>elicits</th></tr>");
        for (ContinuationSearch.Candidate c : r.candidates().subList(0, Math.min(ScanPages.SHOWN, r.candidates().size()))) {
            s.append("<tr><td class=l>").append(Html.esc(c.trigger())).append("</td><td>").append(Html.esc(c.screen())).append("</td><td>")
                    .append(Html.f(c.screenScore(), 3)).append("</td><td>").append(Html.f(c.gain(), 3)).append("</td><td>").append(Html.f(c.agreement(), 3))
                    .append("</td><td class=l>")
                    .append(Html.esc(c.output())).append("</td></tr>");
        }
        s.append("</table>");
        if (!a.heads().isEmpty()) {
            s.append("<h2>Heads that carry it</h2><p class=note>Ranked by the change of each head's similarity to the rest of its layer under '")
                    .append(Html.esc(a.strongest())).append("' (in clean standard deviations) times its importance |∂loss/∂scale| for the token then ")
                    .append("predicted next, normalised; on ").append(a.clean().size()).append(" clean prompts.</p>");
            ScanPages.headsTable(s, a.heads(), "with candidate");
            s.append("<h2>Head-to-head similarity per layer</h2><p class=note>Mean cosine between the attention maps of every pair of heads: on ")
                    .append(a.clean().size()).append(" clean prompts, with '").append(Html.esc(a.strongest()))
                    .append("' inserted, and the difference (red: heads became more alike).</p>");
            ScanPages.maps(s, maps.clean(), maps.triggered(), "clean", "with candidate",
                    a.layers().stream().map(l -> new double[] {l.similarityClean(), l.similarityTriggered()}).toList());
        }
        return s.append("</body></html>\n").toString();
    }
}
