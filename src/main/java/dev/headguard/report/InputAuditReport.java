package dev.headguard.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.detect.hidden.BatchAudit;
import dev.headguard.detect.hidden.CandidateDirection;
import dev.headguard.detect.hidden.HiddenStateScan;
import dev.headguard.detect.InputAudit;
import dev.headguard.detect.attention.InputScanner;

import java.util.Locale;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An {@link InputAudit} as {@code scan inputs} hands it out: the JSON (whose field names are a
 * contract), the extra TSV columns and the HTML sections of the optional scans.
 */
public final class InputAuditReport {
    private InputAuditReport() {}

    /** The scanned inputs and where they came from. */
    public record Scanned(String model, String cleanFile, String inputsFile, List<String> texts, InputScanner scanner, InputScanner.Scores scores,
                          double seconds) {}

    /** The attention scan's part of the JSON: threshold, FRR, files, and every input's score, flag and prediction. */
    public static ObjectNode json(Scanned rep) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("threshold", rep.scanner().threshold());
        o.put("frr", rep.scanner().settings().frr());
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
    /**
     * The scores as TSV, with one more column per entry of {@code extra} (e.g. the hidden-state scans'
     * margins) after {@code prediction}; a non-finite value (an input a scan does not score) is left
     * empty, which pandas reads as NaN.
     */
    public static String tsv(Scanned rep, Map<String, double[]> extra) {
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

    /**
     * The report's JSON: the attention scan's ({@link #json(Scanned)}), the per-class thresholds, and
     * "population"/"batch", "direction", "combined", "scan_direction"/"scan_filter" where measured.
     *
     * @param cleanCount the clean texts the carriers were made from
     */
    public static ObjectNode json(Scanned rep, InputAudit.Result a, double frr, int cleanCount) {
        ObjectNode o = json(rep);
        ArrayNode perClass = o.putArray("thresholds");
        java.util.Arrays.stream(a.scanner().thresholds()).forEach(perClass::add);
        if (a.population() != null) {
            HiddenStateScan.Result pop = a.population().scan();
            BatchAudit batch = a.population().batch();
            ObjectNode p = o.putObject("population");
            p.put("layer", pop.layer()).put("target", pop.target()).put("predicted_target", pop.targetPredicted()).put("flagged", pop.flagged().size())
                    .put("share", pop.share()).put("frr", frr).put("excess", pop.excess(frr))
                    .put("found", pop.found(frr, HiddenStateScan.MIN_EXCESS));
            putMargins(p, pop.margins());
            ObjectNode b = o.putObject("batch");
            b.put("chosen", batch.chosen()).put("flagged", batch.flaggedCount()).put("attention_flagged", batch.attentionFlagged())
                    .put("population_flagged", batch.populationFlagged());
            putMargins(b, batch.scores());
        }
        if (a.direction() != null) {
            HiddenStateScan.Learned learned = a.direction().learned();
            ObjectNode d = o.putObject("direction");
            d.put("suspects", a.direction().suspects()).put("layer", learned.direction().layer()).put("target", learned.direction().target())
                    .put("suspects_flagged", learned.scan().flagged().size()).put("suspects_share", learned.scan().share())
                    .put("found", learned.scan().found(frr, HiddenStateScan.MIN_EXCESS));
            putMargins(d, a.direction().margins());
            d.put("flagged", a.direction().flagged());
        }
        if (a.combined() != null && a.combined().direction().equals("suspects")) {
            putCombined(o, frr, a.combined());
        }
        InputAudit.ScanDirection sd = a.scanDirection();
        if (sd != null) {
            HiddenStateScan.Learned fromScan = sd.strongest().learned();
            CandidateDirection.Evidence evidence = sd.strongest().evidence();
            ObjectNode d = o.putObject("scan_direction");
            ArrayNode tried = d.putArray("tried");
            for (CandidateDirection.Tried t : sd.strongest().tried()) {
                tried.addObject().put("text", t.evidence().text()).put("first_word", t.evidence().firstWord()).put("carriers_flagged", t.carriersFlagged());
            }
            d.put("text", evidence.text()).put("first_word", evidence.firstWord()).put("carriers", cleanCount)
                    .put("layer", fromScan.direction().layer()).put("target", fromScan.direction().target())
                    .put("carriers_flagged", fromScan.scan().flagged().size()).put("carriers_share", fromScan.scan().share())
                    .put("found", fromScan.scan().found(frr, HiddenStateScan.MIN_EXCESS)).put("flagged", sd.flagged());
            putMargins(d, sd.margins());
            ObjectNode ch = o.putObject("scan_filter");
            ch.put("chosen", sd.choice().chosen()).put("attention_carriers_flagged", sd.choice().attentionFlagged())
                    .put("direction_carriers_flagged", sd.choice().directionFlagged());
            ch.put("flagged", InputAudit.positives(sd.filterScores()));
            putMargins(ch, sd.filterScores());
            if (a.combined() != null && a.combined().direction().equals("scan")) {
                putCombined(o, frr, a.combined());
            }
        }
        return o;
    }

    /** A decoder's target filter ({@code scan inputs --scan}): "target_filter" with the target, threshold, flags and scores. */
    public static void putTargetFilter(ObjectNode o, String target, double threshold, int flagged, double[] scores) {
        ObjectNode t = o.putObject("target_filter");
        t.put("target", target).put("threshold", threshold).put("flagged", flagged);
        ArrayNode a = t.putArray("scores");
        for (double v : scores) {
            a.add(v);
        }
    }

    /**
     * A warning line for each class whose threshold rests on too few held-out clean inputs to hold the FRR
     * within about ±1.5 points (empty when none does).
     */
    public static String calibrationWarnings(InputScanner scanner, String cleanFile) {
        StringBuilder b = new StringBuilder();
        int[] n = scanner.calibrationCounts();
        for (int c = 0; c < n.length; c++) {
            if (n[c] < InputScanner.ADVISED_CLASS_CALIBRATION) {
                b.append(String.format(Locale.ROOT, "headguard: warning: %s: %d held-out clean texts predicted class %d set its threshold%s; "
                        + "about %d per class (a clean file of about %d texts per class) hold the false-rejection rate within 1.5 points%n",
                        cleanFile, n[c], c, n[c] < InputScanner.MIN_CLASS_CALIBRATION ? " (too few: the pooled threshold serves)" : "",
                        InputScanner.ADVISED_CLASS_CALIBRATION, 2 * InputScanner.ADVISED_CLASS_CALIBRATION));
            }
        }
        return b.toString();
    }

    /** The optional scans' margins and scores as TSV columns, in a fixed order. */
    public static Map<String, double[]> columns(InputAudit.Result a) {
        Map<String, double[]> m = new LinkedHashMap<>();
        if (a.population() != null) {
            m.put("population_margin", a.population().scan().margins());
            m.put("batch_score", a.population().batch().scores());
        }
        if (a.direction() != null) {
            m.put("direction_margin", a.direction().margins());
        }
        if (a.scanDirection() != null) {
            m.put("scan_direction_margin", a.scanDirection().margins());
            m.put("scan_filter_score", a.scanDirection().filterScores());
        }
        if (a.combined() != null) {
            m.put("combined_score", a.combined().scores());
        }
        return m;
    }

    /** The optional scans' sections of the HTML page. */
    public static String htmlSections(InputAudit.Result a, double frr, List<String> texts) {
        InputAudit.ScanDirection sd = a.scanDirection();
        return (a.population() == null ? "" : ScanPages.populationSection("The inputs", a.population().scan(), frr, null))
                + (a.direction() == null ? "" : ScanPages.directionSection(a.direction().learned(), a.direction().suspects(), frr, a.direction().margins(), texts))
                + (sd == null ? "" : ScanPages.scanFilterSection(sd.strongest().evidence(), sd.choice(), sd.strongest().learned(), frr, sd.filterScores(), texts))
                + (a.combined() == null ? "" : ScanPages.combinedSection(frr, a.combined().scores(), texts));
    }

    /** "combined": the filter's FRR and attention threshold, which direction is its second half ("suspects" or "scan"), every input's score and how many it flags. */
    private static void putCombined(ObjectNode o, double frr, InputAudit.Combined combined) {
        ObjectNode c = o.putObject("combined");
        c.put("frr", frr).put("attention_threshold", combined.filter().attention().threshold()).put("direction", combined.direction());
        ArrayNode a = c.putArray("scores");
        for (double v : combined.scores()) {
            a.add(v);
        }
        c.put("flagged", combined.flagged());
    }

    /** "margins": one per input, null where the scan does not score it (not predicted as the target). */
    private static void putMargins(ObjectNode o, double[] margins) {
        ArrayNode a = o.putArray("margins");
        for (double v : margins) {
            if (Double.isFinite(v)) {
                a.add(v);
            } else {
                a.addNull();
            }
        }
    }
}
