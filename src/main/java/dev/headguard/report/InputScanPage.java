package dev.headguard.report;

import ai.djl.ndarray.NDManager;
import dev.headguard.detect.attention.AttentionFeatures;
import dev.headguard.detect.hidden.BatchAudit;
import dev.headguard.detect.hidden.CandidateDirection;
import dev.headguard.detect.attention.HeadMaps;
import dev.headguard.detect.hidden.HiddenStateScan;
import dev.headguard.detect.InputAudit;
import dev.headguard.detect.attention.InputScanner;
import dev.headguard.model.io.ModelStore;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * An input scan for people: one self-contained HTML page (score histogram, heatmaps of clean and
 * flagged inputs, the most suspicious inputs with the tokens their most deviating heads attend to)
 * and the terminal summary.
 */
public final class InputScanPage {
    private InputScanPage() {}

    /** What the page shows beside the scores; computed only when a page is asked for (it costs model passes). */
    public record Maps(double[][][] clean, double[][][] flagged, List<HeadMaps.TokenFocus> examples) {}

    /** Computes the heatmaps of clean and flagged inputs and the focus of the most suspicious ones. */
    public static Maps maps(ModelStore.LoadedModel m, InputScanner scanner, List<String> cleanTexts, List<String> texts, InputScanner.Scores scores,
                            NDManager root) {
        List<Integer> order = order(scores);
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
        return new Maps(cleanMaps, flaggedMaps, ex);
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

    /** The page, with {@code extra} (e.g. a {@link ScanPages#populationSection} or {@link ScanPages#directionSection}) at its end. */
    public static String html(InputAuditReport.Scanned rep, Maps maps, String extra) {
        List<Integer> order = order(rep.scores());
        int n = rep.texts().size();
        int flagged = rep.scores().flaggedCount();
        StringBuilder s = ScanPages.head("HeadGuard input scan");
        s.append("<h1>HeadGuard input scan</h1>");
        s.append("<div class=\"meta\">model ").append(Html.esc(rep.model())).append(" · inputs ").append(Html.esc(rep.inputsFile()))
                .append(" · clean set ").append(Html.esc(rep.cleanFile())).append(" · ").append(Html.f(rep.seconds(), 1)).append(" s</div>");
        s.append("<div class=\"verdict ").append(flagged > 0 ? "bad" : "good").append("\"><b>").append(flagged).append(" of ").append(n)
                .append(" inputs flagged</b> (").append(Html.f(100.0 * flagged / Math.max(1, n), 1)).append("%); threshold ")
                .append(Html.f(rep.scanner().threshold(), 3)).append(", set so that ").append(Html.f(100 * rep.scanner().settings().frr(), 0))
                .append("% of held-out clean texts would be flagged.</div>");
        s.append("<h2>Scores</h2>").append(Html.histogram(rep.scanner().calibrationScores(), rep.scores().scores(), rep.scanner().threshold(), "held-out clean", "inputs"));
        s.append("<h2>Head-to-head similarity per layer</h2><p class=note>Mean cosine between the attention maps of every pair of heads on clean texts, on the flagged inputs, and the difference.</p>");
        ScanPages.maps(s, maps.clean(), maps.flagged(), "clean", "flagged", null);
        s.append("<h2>Most suspicious inputs</h2><p class=note>Token colour: attention from the [CLS] row of the three heads furthest from their clean behaviour on that input.</p>");
        for (HeadMaps.TokenFocus f : maps.examples()) {
            s.append("<div class=ex>").append(Html.tokens(f.tokens(), f.weight())).append("</div>");
        }
        s.append("<table><tr><th>#</th><th>score</th><th>prediction</th><th class=l>text</th></tr>");
        int[] pred = rep.scores().probe().predictions();
        for (int i : order.subList(0, Math.min(ScanPages.SHOWN * 2, order.size()))) {
            if (!rep.scores().flagged()[i]) {
                break;
            }
            s.append("<tr><td>").append(i).append("</td><td>").append(Html.f(rep.scores().scores()[i], 3)).append("</td><td>").append(pred[i])
                    .append("</td><td class=l>").append(Html.esc(rep.texts().get(i))).append("</td></tr>");
        }
        s.append("</table>");
        return s.append(extra).append("</body></html>\n").toString();
    }

    /** Input indices sorted by score, most suspicious first. */
    private static List<Integer> order(InputScanner.Scores scores) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < scores.scores().length; i++) {
            order.add(i);
        }
        order.sort(Comparator.comparingDouble(i -> -scores.scores()[i]));
        return order;
    }

    /** The terminal summary of {@code scan inputs}: what was flagged, the first flagged inputs, and each optional scan's line. */
    public static String summary(InputAudit.Result a, List<String> texts, int cleanCount, double frr) {
        StringBuilder out = new StringBuilder();
        InputScanner.Scores s = a.scores();
        out.append(String.format(Locale.ROOT, "%d of %d inputs flagged (%.1f%%) at threshold %.4g (FRR %.2f on held-out clean texts); %.1f inputs/s%n",
                s.flaggedCount(), texts.size(), 100.0 * s.flaggedCount() / texts.size(), a.scanner().threshold(), a.scanner().settings().frr(),
                texts.size() / a.seconds()));
        int shown = 0;
        for (int i = 0; i < texts.size() && shown < 10; i++) {
            if (s.flagged()[i]) {
                out.append(String.format(Locale.ROOT, "  #%d  score %.3f  %s%n", i, s.scores()[i], abbreviate(texts.get(i))));
                shown++;
            }
        }
        if (s.flaggedCount() > shown) {
            out.append("  ... (" + (s.flaggedCount() - shown) + " more; --out FILE writes every score)").append(System.lineSeparator());
        }
        if (a.population() != null) {
            HiddenStateScan.Result pop = a.population().scan();
            BatchAudit batch = a.population().batch();
            out.append(String.format(Locale.ROOT, "as a population (hidden-state shift, layer %d): %d of the %d inputs predicted %d flagged (%.1f%%, %.1fx the %.0f%% expected of clean inputs): %s%n",
                    pop.layer(), pop.flagged().size(), pop.targetPredicted(), pop.target(), 100 * pop.share(), pop.excess(frr), 100 * frr,
                    pop.found(frr, HiddenStateScan.MIN_EXCESS) ? "a poisoned population" : "no population"));
            out.append(String.format(Locale.ROOT, "batch audit: the %s scan flags more of these inputs (%d against %d), so its scores rank them (batch_score)%n",
                    batch.chosen(), batch.population() ? batch.populationFlagged() : batch.attentionFlagged(),
                    batch.population() ? batch.attentionFlagged() : batch.populationFlagged()));
        }
        if (a.direction() != null) {
            HiddenStateScan.Learned learned = a.direction().learned();
            boolean learnedFound = learned.scan().found(frr, HiddenStateScan.MIN_EXCESS);
            int dirFlagged = a.direction().flagged();
            out.append(String.format(Locale.ROOT, "along the hidden-state direction of %d suspects (layer %d, class %d; %d of them flagged, %s): %d of %d inputs flagged (%.1f%%)%n",
                    a.direction().suspects(), learned.direction().layer(), learned.direction().target(), learned.scan().flagged().size(),
                    learnedFound ? "a poisoned population" : "no population, so the direction is noise and its flags are false rejections",
                    dirFlagged, texts.size(), 100.0 * dirFlagged / texts.size()));
        }
        if (a.scanDirection() != null) {
            InputAudit.ScanDirection sd = a.scanDirection();
            HiddenStateScan.Learned fromScan = sd.strongest().learned();
            CandidateDirection.Evidence evidence = sd.strongest().evidence();
            CandidateDirection.Choice choice = sd.choice();
            out.append(String.format(Locale.ROOT, "along the hidden-state direction of the clean texts carrying the scan's '%s'%s (layer %d, class %d; %s): %d of %d inputs flagged (%.1f%%)%n",
                    evidence.text(), evidence.firstWord() ? " as first word" : "", fromScan.direction().layer(), fromScan.direction().target(),
                    fromScan.scan().found(frr, HiddenStateScan.MIN_EXCESS) ? "it moves them" : "it does not move them, so the direction is noise",
                    sd.flagged(), texts.size(), 100.0 * sd.flagged() / texts.size()));
            out.append(String.format(Locale.ROOT, "filter chosen by the scan's evidence: the %s (it flags %d of the %d carriers, the other %d): scan_filter_score%n",
                    choice.direction() ? "direction" : "attention scan", Math.max(choice.attentionFlagged(), choice.directionFlagged()), cleanCount,
                    Math.min(choice.attentionFlagged(), choice.directionFlagged())));
        }
        if (a.combined() != null) {
            int combinedFlagged = a.combined().flagged();
            out.append(String.format(Locale.ROOT, "combined filter (attention scan or direction, each at FRR %.3f): %d of %d inputs flagged (%.1f%%)%n",
                    frr / 2, combinedFlagged, texts.size(), 100.0 * combinedFlagged / texts.size()));
        }
        return out.toString();
    }

    private static String abbreviate(String s) {
        return s.length() <= 100 ? s : s.substring(0, 97) + "...";
    }
}
