package dev.headguard.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.detect.attention.InputScanner;
import dev.headguard.detect.search.ModelScanner;
import dev.headguard.detect.search.UnsupportedFlips;

import java.util.List;
import java.util.Locale;

/** The zoo benchmark's table lines and its JSON ({@code bench zoo --json}): the one owner of that format. */
public final class ZooReport {
    private ZooReport() {}

    public static String header() {
        return String.format(Locale.ROOT, "%-26s %-10s %-22s %7s %-9s %-44s %6s%n", "model", "truth", "trigger", "score", "verdict", "top 5 candidates", "s");
    }

    /** The table's line (and notes) for one scanned model. */
    public static String line(ZooBenchmark.ModelRow row) {
        StringBuilder s = new StringBuilder();
        ModelScanner.Result res = row.scan();
        ZooBenchmark.Truth t = row.truth();
        s.append(String.format(Locale.ROOT, "%-26s %-10s %-22s %7.3f %-9s %-44s %6.1f%n", row.model().getFileName(), t.name(),
                t.backdoored() ? abbreviate(t.trigger(), 22) : "-", row.score(), row.backdoor() ? "BACKDOOR" : "clean",
                abbreviate(String.join(", ", row.top5()), 44) + (t.tokenTrigger() ? (t.triggerInTop5() ? " ✓" : " ✗") : ""), row.seconds()));
        if (row.continuation() != null) {
            s.append(String.format(Locale.ROOT, "%-26s   elicits: %s%s%n", "", abbreviate(row.elicited(), 60),
                    t.targetPhrase() != null ? (t.outputMatches() ? " ✓" : " ✗ (target: " + t.targetPhrase() + ")") : ""));
        }
        if (res != null && res.unsupportedWins()) {
            UnsupportedFlips.Word w = res.unsupported().get(0);
            s.append(String.format(Locale.ROOT, "%-26s   score from a word that flips without support: '%s' -> label %d, flips %.1f%%, %d of %d clean texts using it %s so%n", "",
                    w.text(), w.target(), 100 * w.flipRate(), w.usesCalledC(), w.uses(), res.wordsLabelled() ? "labelled" : "called"));
        }
        ZooBenchmark.Population p = row.population();
        if (p != null) {
            s.append(String.format(Locale.ROOT, "%-26s   with its training set as suspects: %.1fx the FRR flagged (%d) -> score %.3f, %s; recovered words: %s%n", "",
                    p.excess(), p.flagged(), p.score(), p.backdoor() ? "BACKDOOR" : "clean",
                    p.recovered().isEmpty() ? "none" : abbreviate(String.join(", ", p.recovered()), 60) + (t.tokenTrigger() ? (p.triggerRecovered() ? " ✓" : " ✗") : "")));
        }
        return s.toString();
    }

    /** The verdicts' AUROC and the triggers found, after the last model. */
    public static String footer(ZooBenchmark.Totals r) {
        String s = String.format(Locale.ROOT, "%d clean, %d backdoored: verdict-score AUROC %.4f; token triggers in the top 5: %d of %d%s%n",
                r.search().clean(), r.search().backdoored(), r.search().auroc(), r.triggerInTop5(), r.tokenVictims(),
                r.phraseVictims() > 0 ? String.format(Locale.ROOT, "; the poisoned output elicited: %d of %d", r.outputMatched(), r.phraseVictims()) : "");
        if (r.withPopulation() != null) {
            s += String.format(Locale.ROOT, "with the training sets as suspects (%d clean, %d backdoored): verdict-score AUROC %.4f; token triggers in the top 5 or recovered: %d of %d%n",
                    r.withPopulation().clean(), r.withPopulation().backdoored(), r.withPopulation().auroc(), r.triggerInTop5OrRecovered(), r.tokenVictims());
        }
        return s;
    }

    /** The whole run as JSON: "models" (one entry per model, in the list's order) and the totals. */
    public static ObjectNode json(ZooBenchmark.Result r) {
        ObjectMapper om = new ObjectMapper();
        return json(r.rows().stream().map(row -> json(om, row)).toList(), r.totals());
    }

    /** The same from each model's entry ({@link #json(ObjectMapper, ZooBenchmark.ModelRow)}) and the totals. */
    public static ObjectNode json(List<ObjectNode> modelEntries, ZooBenchmark.Totals r) {
        ObjectMapper om = new ObjectMapper();
        ObjectNode report = om.createObjectNode();
        ArrayNode models = report.putArray("models");
        modelEntries.forEach(models::add);
        if (r.withPopulation() != null) {
            report.put("auroc_with_population", r.withPopulation().auroc()).put("clean_with_population", r.withPopulation().clean())
                    .put("backdoored_with_population", r.withPopulation().backdoored()).put("trigger_in_top5_or_recovered", r.triggerInTop5OrRecovered());
        }
        report.put("auroc", r.search().auroc()).put("clean", r.search().clean()).put("backdoored", r.search().backdoored())
                .put("token_victims", r.tokenVictims()).put("trigger_in_top5", r.triggerInTop5());
        if (modelEntries.stream().anyMatch(m -> !m.has("task"))) { // the classifier scan's input settings: no decoder row uses them
            report.put("input_settings", InputScanner.Settings.defaults().toString());
        }
        if (r.phraseVictims() > 0) {
            report.put("phrase_victims", r.phraseVictims()).put("output_matched", r.outputMatched());
        }
        return report;
    }

    /** One model's entry of the JSON's "models". */
    public static ObjectNode json(ObjectMapper om, ZooBenchmark.ModelRow row) {
        ModelScanner.Result res = row.scan();
        ZooBenchmark.Truth t = row.truth();
        ObjectNode o = om.createObjectNode();
        o.put("model", row.model().toString()).put("truth", t.name()).put("trigger", t.trigger())
                .put("score", row.score()).put("backdoor", row.backdoor()).put("seconds", row.seconds());
        if (res != null) {
            o.put("suspected_target", res.suspectedTarget())
                    .put("evidence", res.unsupportedWins() ? "unsupported_flip" : "trigger_candidate").put("strongest", res.strongest())
                    .put("top_unsupported_score", res.unsupported().isEmpty() ? 0 : res.unsupported().get(0).score());
        } else {
            o.put("task", "generation").put("elicited", row.elicited());
            if (t.targetPhrase() != null) {
                o.put("target_phrase", t.targetPhrase()).put("output_matches", t.outputMatches());
            }
        }
        o.putArray("top5").addAll(row.top5().stream().map(om::valueToTree).map(JsonNode.class::cast).toList());
        if (t.tokenTrigger()) {
            o.put("trigger_in_top5", t.triggerInTop5());
        }
        ZooBenchmark.Population p = row.population();
        if (p != null) {
            o.put("suspects", p.suspects().toString()).put("population_excess", p.excess()).put("population_flagged", p.flagged())
                    .put("population_found", p.found()).put("score_with_population", p.score())
                    .put("backdoor_with_population", p.backdoor());
            o.set("recovered_words", om.valueToTree(p.recovered()));
            if (t.tokenTrigger()) {
                o.put("trigger_recovered", p.triggerRecovered());
            }
        }
        return o;
    }

    private static String abbreviate(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n - 3) + "...";
    }
}
