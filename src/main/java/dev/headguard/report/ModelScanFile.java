package dev.headguard.report;

import dev.headguard.repair.RepairPlan;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.AtomicFiles;
import dev.headguard.HeadGuardException;
import dev.headguard.detect.hidden.CandidateDirection;
import dev.headguard.detect.hidden.HiddenStateScan;
import dev.headguard.detect.ContinuationAudit;
import dev.headguard.detect.ModelAudit;
import dev.headguard.detect.search.ContinuationSearch;
import dev.headguard.detect.search.Openings;
import dev.headguard.detect.search.ModelScanner;
import dev.headguard.detect.attention.Probe;
import dev.headguard.detect.hidden.SuspectWords;
import dev.headguard.detect.search.UnsupportedFlips;
import dev.headguard.model.HeadId;
import dev.headguard.model.io.ModelStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@code scan model} report as a file: read back for the repair ({@link #plan}) and for the input
 * filter ({@link #evidence}), and kept in HeadGuard's cache ({@link #cached}); the one owner of its
 * JSON, written by {@link #json} and read back here.
 */
public final class ModelScanFile {
    private ModelScanFile() {}

    /** The report's JSON, the contract {@code scan model --json/--out} prints and this class reads back. */
    /**
     * A decoder's scan: {"backdoor", "score", "threshold", "task": "generation", "raised_tokens" [..], "baseline" {agreement, output},
     * "triggers" [{trigger, screen, screen_score, agreement, gain, output}], ...}; "triggers" as a classifier's scan names them.
     */
    public static ObjectNode json(String model, String cleanFile, int cleanRows, double threshold, ContinuationSearch.Result r) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("backdoor", r.backdoor());
        o.put("score", r.score());
        o.put("threshold", threshold);
        o.put("task", "generation");
        o.put("model", model);
        o.put("clean", cleanFile);
        o.put("clean_rows", cleanRows);
        o.put("seconds", r.seconds());
        o.put("words_screened", r.wordsScreened());
        r.raisedTokens().forEach(o.putArray("raised_tokens")::add);
        o.putObject("baseline").put("agreement", r.baseline()).put("output", r.baselineOutput());
        ArrayNode t = o.putArray("triggers");
        for (ContinuationSearch.Candidate c : r.candidates()) {
            t.addObject().put("trigger", c.trigger()).put("screen", c.screen()).put("screen_score", c.screenScore()).put("agreement", c.agreement())
                    .put("gain", c.gain()).put("output", c.output());
        }
        return o;
    }

    /** The same with the heads the strongest candidate changes most: "heads" and "layers" as a classifier's scan writes them, and "heads_under". */
    public static ObjectNode json(String model, String cleanFile, int cleanRows, double threshold, ContinuationAudit.Result a) {
        ObjectNode o = json(model, cleanFile, cleanRows, threshold, a.search());
        o.put("heads_under", a.strongest());
        putHeads(o, a.heads(), a.layers());
        return o;
    }

    private static void putHeads(ObjectNode o, List<ModelScanner.Head> heads, List<ModelScanner.Layer> layers) {
        ArrayNode h = o.putArray("heads");
        for (ModelScanner.Head x : heads) {
            h.addObject().put("layer", x.layer()).put("head", x.head()).put("similarity_clean", x.similarityClean())
                    .put("similarity_triggered", x.similarityTriggered()).put("jump", x.jump()).put("importance", x.importance())
                    .put("rank_score", x.rankScore());
        }
        ArrayNode l = o.putArray("layers");
        for (ModelScanner.Layer x : layers) {
            l.addObject().put("layer", x.layer()).put("similarity_clean", x.similarityClean()).put("similarity_triggered", x.similarityTriggered());
        }
    }

    public static ObjectNode json(String model, String cleanFile, ModelScanner.Result r) {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("backdoor", r.backdoor());
        o.put("score", r.score());
        o.put("threshold", r.threshold());
        o.put("suspected_target", r.suspectedTarget());
        o.put("model", model);
        o.put("clean", cleanFile);
        o.put("clean_rows", r.scanner().clean().size());
        o.put("seconds", r.seconds());
        putHeads(o, r.heads(), r.layers());
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

    /**
     * "population" and "combined": the suspects' hidden-state scan ({@code scan model --suspect}) and the
     * verdict of the token search and the population together.
     *
     * @param words found almost only in suspects the input scan flags: a token trigger, spelled out
     */
    public static void putSuspects(ObjectNode o, ModelAudit.Result audit, int suspects, double frr, List<String> words) {
        HiddenStateScan.Result pop = audit.suspects().hidden();
        o.putObject("population").put("suspects", suspects).put("layer", pop.layer()).put("target", pop.target())
                .put("predicted_target", pop.targetPredicted()).put("flagged", pop.flagged().size()).put("share", pop.share())
                .put("frr", frr).put("excess", pop.excess(frr)).put("found", audit.populationFound())
                .put("evidence", pop.evidence(frr, HiddenStateScan.MIN_EXCESS))
                .set("words", new ObjectMapper().valueToTree(words));
        o.putObject("combined").put("backdoor", audit.backdoor()).put("score", audit.score());
    }

    /** The suspects' words the population scan recovered (none without suspects). */
    public static List<String> recoveredWords(ModelAudit.Result audit) {
        return audit.suspects() == null ? List.of() : List.copyOf(SuspectWords.texts(audit.suspects().words()));
    }

    /**
     * The output a decoder's {@code scan model} report elicited: the opening its first candidate that is
     * not an echo turned the clean prompts to, as the model wrote it ({@link Openings#openingText}); a one-line error when
     * the report is not a decoder's or names no such output.
     */
    public static String elicitedTarget(Path file) {
        JsonNode r = parse(file);
        if (r == null || !"generation".equals(r.path("task").asText())) {
            throw new HeadGuardException(file + ": not a decoder's 'scan model' report (no \"task\": \"generation\")");
        }
        String target = elicitedTarget(r);
        if (target == null) {
            throw new HeadGuardException(file + ": the scan report elicited no output to look for");
        }
        return target;
    }

    private static String elicitedTarget(JsonNode report) {
        for (JsonNode t : report.path("triggers")) {
            String output = t.path("output").asText("");
            if (!Openings.echoes(t.path("trigger").asText(""), output) && !Openings.opening(output).isBlank()) {
                return Openings.openingText(output);
            }
        }
        return null;
    }

    /**
     * The output behind a decoder's default input filter: what this model's continuation search
     * ({@code scan model}'s defaults, on these clean prompts) elicits, read back from HeadGuard's cache
     * ({@link ScanCache}) or scanned now and cached; null when it elicits none.
     *
     * @param cleanLimit the sample {@code prompts} were drawn with from {@code cleanFile} (part of the cache key)
     */
    public static String cachedElicitedTarget(ModelStore.LoadedModel m, Path cleanFile, int cleanLimit, List<String> prompts, long seed,
                                              NDManager root, java.util.function.Consumer<String> stage) {
        ContinuationSearch.Settings settings = ContinuationSearch.Settings.defaults(seed);
        Path cached = ScanCache.reportFor(m.directory(), cleanFile, "continuation-search " + cleanLimit + " " + settings); // records print every field
        if (!Files.isRegularFile(cached)) {
            ContinuationSearch.Result r = ContinuationSearch.scan(m, prompts, settings, root, stage);
            writeCached(cached, json(m.directory().toString(), cleanFile.toString(), prompts.size(), settings.threshold(), r));
        }
        return elicitedTarget(parse(cached));
    }

    private static void writeCached(Path cached, ObjectNode report) {
        try {
            AtomicFiles.write(cached, new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(report) + "\n");
        } catch (IOException e) {
            throw new HeadGuardException(cached + ": cannot write the cached scan (" + e.getMessage() + ")");
        }
    }

    /** The report's JSON; a one-line error when it is not a {@code scan model} report. */
    public static JsonNode read(Path file) {
        JsonNode r = parse(file);
        if (r != null && "generation".equals(r.path("task").asText())) {
            throw new HeadGuardException(file + ": a decoder's 'scan model' report; it is not yet read back (a classifier's report is)");
        }
        if (r == null || !r.has("heads") || !r.has("triggers")) {
            throw new HeadGuardException(file + ": not a 'scan model' report (no 'heads' and 'triggers')");
        }
        return r;
    }

    /** The file's JSON (null when empty); a one-line error when it cannot be read or parsed. */
    private static JsonNode parse(Path file) {
        try {
            return new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            String m = e.getMessage() == null ? "" : e.getMessage();
            int nl = m.indexOf('\n');
            throw new HeadGuardException(file + ": cannot read the scan report (" + (nl < 0 ? m : m.substring(0, nl)).strip() + ")");
        }
    }

    /** What the report says to repair: its heads and candidates, in its order. */
    public static RepairPlan plan(Path file) {
        JsonNode r = read(file);
        List<HeadId> ranked = new ArrayList<>();
        List<String> candidates = new ArrayList<>();
        List<Double> flips = new ArrayList<>();
        List<Double> suspicions = new ArrayList<>();
        r.path("heads").forEach(h -> ranked.add(new HeadId(h.path("layer").asInt(), h.path("head").asInt())));
        r.path("triggers").forEach(t -> {
            candidates.add(t.path("text").asText());
            flips.add(t.path("flip_rate").asDouble(Double.NaN));
            suspicions.add(t.path("suspicion").asDouble(Double.NaN));
        });
        RepairPlan.Opening opening = unsupportedWins(r)
                ? new RepairPlan.Opening(r.path("unsupported_flips").path(0).path("text").asText(), r.path("unsupported_flips").path(0).path("target").asInt(-1))
                : null;
        return new RepairPlan(ranked, candidates, r.path("score").asDouble(Double.NaN), r.path("backdoor").asBoolean(), flips, suspicions,
                opening != null ? opening.target() : r.path("triggers").path(0).path("target").asInt(-1), opening);
    }

    /** Whether the report's strongest evidence is its first unsupported word (an opening word), not its top candidate. */
    private static boolean unsupportedWins(JsonNode r) {
        return "unsupported_flip".equals(r.path("evidence").asText()) && !r.path("unsupported_flips").path(0).path("text").asText("").isBlank();
    }

    /**
     * The evidence the report names, the verdict's first: its unsupported word (as first word) when
     * that gave the verdict, else its top candidate; then the other of the two, when the report has
     * one ({@link CandidateDirection#strongest} chooses between them).
     */
    public static List<CandidateDirection.Evidence> evidence(Path file) {
        JsonNode r = read(file);
        String candidate = r.path("triggers").path(0).path("text").asText("");
        String word = r.path("unsupported_flips").path(0).path("text").asText("");
        boolean unsupported = unsupportedWins(r);
        if (!unsupported && candidate.isBlank()) {
            throw new HeadGuardException(file + ": the scan report names no trigger candidate");
        }
        List<CandidateDirection.Evidence> out = new ArrayList<>();
        if (unsupported) {
            out.add(new CandidateDirection.Evidence(word, true));
        }
        if (!candidate.isBlank()) {
            out.add(new CandidateDirection.Evidence(candidate, false));
        }
        if (!unsupported && !word.isBlank()) {
            out.add(new CandidateDirection.Evidence(word, true));
        }
        return out;
    }

    /** Clean texts the model scan behind the default input filter runs on (a seeded sample), as the repair's scan does. */
    public static final int FILTER_SCAN_TEXTS = 200;

    /**
     * The evidence of the model scan behind the default input filter: this model's scan on a seeded
     * sample of {@link #FILTER_SCAN_TEXTS} of {@code cleanTexts} (the clean file's, after any
     * {@code cleanLimit} sample), scored with {@code scoring}; cached ({@link #cached}), so that every
     * caller with the same model, clean file and settings shares one scan.
     */
    public static List<CandidateDirection.Evidence> filterEvidence(ModelStore.LoadedModel m, Path cleanFile, List<String> cleanTexts, int cleanLimit,
                                                                   dev.headguard.detect.attention.InputScanner.Settings scoring, NDManager root, Probe.Progress progress) {
        ModelScanner.Settings d = ModelScanner.Settings.defaults();
        ModelScanner.Settings settings = new ModelScanner.Settings(d.victims(), d.screened(), d.exact(), d.phraseWords(), d.threshold(), scoring.seed(), scoring);
        String key = "model-scan " + FILTER_SCAN_TEXTS + " " + cleanLimit + " " + settings; // records print every field
        return evidence(cached(m, cleanFile, dev.headguard.text.Sample.of(cleanTexts, FILTER_SCAN_TEXTS, scoring.seed()), settings, key, root, progress));
    }

    /**
     * This model's scan on these clean texts: the cached report when one with the same model, clean
     * file and {@code key} exists ({@link ScanCache}), else scanned now and cached. A model the scan
     * cannot run on (e.g. one that calls almost everything one class) throws its one-line error.
     *
     * @param key every setting the report depends on, as text (records print every field)
     */
    public static Path cached(ModelStore.LoadedModel m, Path cleanFile, List<String> scanTexts, ModelScanner.Settings settings, String key,
                              NDManager root, Probe.Progress progress) {
        Path cached = ScanCache.reportFor(m.directory(), cleanFile, key);
        if (!Files.isRegularFile(cached)) {
            ModelScanner.Result r = ModelScanner.scan(m, scanTexts, UnsupportedFlips.Evidence.ofLabelledFile(cleanFile, m.model().config().numLabels()),
                    settings, root, progress);
            writeCached(cached, json(m.directory().toString(), cleanFile.toString(), r));
        }
        return cached;
    }
}
