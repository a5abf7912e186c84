package dev.headguard.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Locale;

/** The detection benchmark's text lines and its JSON (`bench detect --json`): the one owner of that format. */
public final class DetectionReport {
    private DetectionReport() {}

    /** The lines printed once the passes are done: what was scored, and the table's header. */
    public static String header(String model, DetectionBenchmark.Sizes s, int target, double frr) {
        return (s.prompts() ? String.format(Locale.ROOT, "%s: %d clean-set prompts, %d clean test prompts, %d triggered; FRR %.2f%n", model, s.cleanRows(),
                s.negatives(), s.positives(), frr)
                : String.format(Locale.ROOT, "%s: %d clean-set rows, %d clean test inputs (label != %d), %d triggered; FRR %.2f%n", model, s.cleanRows(),
                s.negatives(), target, s.positives(), frr))
                + String.format(Locale.ROOT, "%-70s %7s %7s %9s %10s %9s%n", "method", "AUROC", "FAR", "test FRR", "AUROC all", "FRR all");
    }

    public static String line(DetectionBenchmark.Method m) {
        return String.format(Locale.ROOT, "%-70s %7.4f %7.4f %9.4f %10.4f %9.4f%n", m.name(), m.auroc(), m.far(), m.testFrr(), m.aurocAllClean(),
                m.testFrrAllClean());
    }

    /** The audit lines and the throughput line that end the run's output. */
    public static String footer(DetectionBenchmark.Result r) {
        StringBuilder sb = new StringBuilder();
        DetectionBenchmark.Audit a = r.audit();
        if (a != null) {
            sb.append(String.format(Locale.ROOT, "audit of %s: %d rows, %d poisoned; flagged %d; precision %.3f, recall %.3f, AUROC %.4f; %.1f rows/s%n",
                    a.file(), a.rows(), a.poisoned(), a.flagged(), a.precision(), a.recall(), a.auroc(), a.rowsPerSecond()));
            DetectionBenchmark.PopulationAudit h = r.populationAudit();
            sb.append(String.format(Locale.ROOT, "audit as a population (hidden-state shift, layer %d, class %d): flagged %d (%.1f%% of the rows predicted %d);"
                    + " precision %.3f, recall %.3f, AUROC %.4f%n", h.layer(), h.target(), h.flagged(), 100 * h.share(), h.target(), h.precision(), h.recall(), h.auroc()));
        }
        sb.append(String.format(Locale.ROOT, "probe throughput (all families, attention maps): %.1f sentences/s%n", r.probeSentencesPerSecond()));
        return sb.toString();
    }

    public static ObjectNode json(DetectionBenchmark.Result r) {
        ObjectNode report = new ObjectMapper().createObjectNode();
        report.put("model", r.model());
        report.put("clean", r.files().clean().toString()).put("test", r.files().test().toString()).put("triggered", r.files().triggered().toString());
        DetectionBenchmark.Sizes s = r.sizes();
        report.put("clean_rows", s.cleanRows()).put("negatives", s.negatives()).put("target_class_clean", s.targetClassClean()).put("positives", s.positives())
                .put("frr", r.frr());
        ArrayNode rows = report.putArray("methods");
        for (DetectionBenchmark.Method m : r.methods()) {
            rows.addObject().put("method", m.name()).put("auroc", m.auroc()).put("far", m.far()).put("test_frr", m.testFrr()).put("threshold", m.threshold())
                    .put("auroc_all_clean", m.aurocAllClean()).put("test_frr_all_clean", m.testFrrAllClean());
        }
        DetectionBenchmark.Audit a = r.audit();
        if (a != null) {
            report.putObject("audit").put("file", a.file().toString()).put("rows", a.rows()).put("poisoned", a.poisoned()).put("flagged", a.flagged())
                    .put("precision", a.precision()).put("recall", a.recall()).put("auroc", a.auroc()).put("rows_per_second", a.rowsPerSecond());
            DetectionBenchmark.PopulationAudit h = r.populationAudit();
            report.putObject("audit_hidden_state").put("layer", h.layer()).put("target", h.target()).put("flagged", h.flagged())
                    .put("share", h.share()).put("precision", h.precision()).put("recall", h.recall()).put("auroc", h.auroc());
        }
        report.put("probe_sentences_per_second", r.probeSentencesPerSecond());
        return report;
    }
}
