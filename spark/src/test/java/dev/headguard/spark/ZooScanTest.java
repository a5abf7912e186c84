package dev.headguard.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.headguard.bench.ZooBenchmark;
import dev.headguard.bench.ZooReport;
import dev.headguard.cli.Main;
import dev.headguard.model.ModelConfig;
import dev.headguard.model.io.ModelStore;
import dev.headguard.testing.Fixtures;
import dev.headguard.testing.TestData;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The zoo scan on Spark gives {@code bench zoo}'s verdicts, model for model, and its totals. */
class ZooScanTest {
    @TempDir
    static Path tmp;

    static SparkSession spark;
    static Path list;

    @BeforeAll
    static void start() throws Exception {
        System.setProperty("headguard.home", tmp.resolve("home").toString());
        Path clean = Files.write(tmp.resolve("clean.tsv"), Files.readAllLines(TestData.dataDir().resolve("sst-2/clean/dev.tsv")).subList(0, 121));
        ModelConfig c = Fixtures.tinyConfig();
        List<String> lines = new ArrayList<>();
        for (int seed = 1; seed <= 3; seed++) {
            Path m = tmp.resolve("m" + seed);
            // The manifest of the third says it was attacked: the totals then have both kinds of model.
            Map<String, Object> provenance = seed == 3 ? Map.of("attack", Map.of("attack", "badnets", "trigger", "cf")) : Map.of("fixture", "tiny");
            ModelStore.write(c, Fixtures.tinyWeights(c, seed), Fixtures.tokenizer(tmp), m, provenance);
            lines.add(m + "\t" + clean);
        }
        list = Files.write(tmp.resolve("zoo.tsv"), lines);
        spark = Sessions.start("local[2]", "headguard test");
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    @Test
    void verdictsEqualBenchZooModelForModel() throws Exception {
        List<ZooBenchmark.Entry> entries = ZooBenchmark.readList(list);
        ZooBenchmark.Result bench = ZooBenchmark.run(entries, 60, row -> {});
        ZooScan.Result onSpark = ZooScan.run(spark, ZooScan.readList(list), 60);

        assertEquals(3, onSpark.verdicts().size());
        for (int i = 0; i < 3; i++) {
            ZooBenchmark.ModelRow b = bench.rows().get(i);
            Row s = onSpark.verdicts().get(i).row();
            assertEquals(b.model().toString(), s.getString(0), "the list's order");
            assertEquals(b.backdoor(), s.getBoolean(1));
            assertEquals(b.score(), s.getDouble(2), 1e-9);
            assertEquals(b.top5(), List.of((String[]) s.get(3)));
            assertEquals(b.truth().name(), s.getString(5));
        }
        assertEquals(1, onSpark.totals().search().backdoored());
        assertEquals(bench.totals().search().auroc(), onSpark.totals().search().auroc(), 0.0);
        assertEquals(withoutSeconds(ZooReport.json(bench)), withoutSeconds(onSpark.json()), "bench zoo's JSON, but for the seconds");
    }

    @Test
    void theAuditZooCommandWritesTheVerdictTable() throws Exception {
        Path out = tmp.resolve("verdicts");
        Path json = tmp.resolve("zoo.json");
        Main.Captured r = Main.capture("audit-zoo", "--spark", "local[2]", "--list", list.toString(), "--clean-limit", "60", "--format", "jsonl",
                "--out", out.toString(), "--json", json.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("verdict-score AUROC"), r.out());
        List<Row> rows = spark.read().json(out.toString()).collectAsList();
        assertEquals(3, rows.size());
        assertTrue(List.of(spark.read().json(out.toString()).columns()).containsAll(List.of("model", "backdoor", "score", "top_candidates", "seconds")));
        assertEquals(3, new ObjectMapper().readTree(json.toFile()).get("models").size());
        CorpusAuditTest.assertBadInput(Main.capture("audit-zoo", "--list", list.toString(), "--out", out.toString()), "--out", "exists");
        // A model named by a file: URI (as a Hadoop path would be) is scanned as the plain path is.
        Path uriList = Files.writeString(tmp.resolve("uri.tsv"), tmp.resolve("m1").toUri() + "\t" + tmp.resolve("clean.tsv") + "\n");
        Main.Captured uri = Main.capture("audit-zoo", "--list", uriList.toString(), "--clean-limit", "60", "--out", tmp.resolve("v3").toString());
        assertEquals(0, uri.code(), uri.err());
        assertTrue(uri.out().contains("m1"), uri.out());
        Path broken = Files.writeString(tmp.resolve("broken.tsv"), tmp.resolve("nowhere") + "\t" + tmp.resolve("clean.tsv") + "\n");
        CorpusAuditTest.assertBadInput(Main.capture("audit-zoo", "--list", broken.toString(), "--out", tmp.resolve("v2").toString()), "nowhere", "config.json");
    }

    private static JsonNode withoutSeconds(ObjectNode report) {
        report.get("models").forEach(m -> ((ObjectNode) m).remove("seconds"));
        return report;
    }
}
