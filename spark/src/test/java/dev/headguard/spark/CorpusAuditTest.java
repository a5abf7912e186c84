package dev.headguard.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headguard.api.HeadGuard;
import dev.headguard.api.InputFilter;
import dev.headguard.cli.Main;
import dev.headguard.testing.Fixtures;
import dev.headguard.testing.TestData;
import dev.headguard.text.SentenceFile;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Spark audit scores SST-2 texts as the single-process {@code scan inputs} does, row for row,
 * with the model loaded once per executor, and a failed task retried without duplicates.
 */
class CorpusAuditTest {
    @TempDir
    static Path tmp;

    static SparkSession spark;
    static Path model;
    static Path clean;
    static Path inputs;

    @BeforeAll
    static void start() throws Exception {
        System.setProperty("headguard.home", tmp.resolve("home").toString());
        model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        // Real data: 300 labelled SST-2 dev rows as the clean set, 500 SST-2 test rows as the corpus.
        clean = Files.write(tmp.resolve("clean.tsv"), Files.readAllLines(TestData.dataDir().resolve("sst-2/clean/dev.tsv")).subList(0, 301));
        inputs = Files.write(tmp.resolve("inputs.tsv"), Files.readAllLines(TestData.sst2Test()).subList(0, 501));
        spark = Sessions.start("local[2,2]", "headguard test"); // two cores, a failed task tried twice
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    @Test
    void scoresEqualScanInputsRowForRowThroughARetriedTask() throws Exception {
        Main.Captured single = Main.capture("scan", "inputs", "--model", model.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(), "--json");
        assertEquals(0, single.code(), single.err());
        JsonNode json = new ObjectMapper().readTree(single.out());
        List<String> texts = SentenceFile.readSentences(inputs);

        byte[] filter;
        double[] api;
        try (HeadGuard hg = HeadGuard.load(model.toString())) {
            InputFilter f = hg.inputFilter(clean, InputFilter.Settings.defaults());
            filter = f.calibrated().toBytes();
            api = f.scores(texts);
        }
        int loadsBefore = ExecutorModels.loads();
        // Three partitions (not scan inputs' one pass), partition 1 failing on its first attempt.
        Dataset<Row> corpus = Tables.read(spark, inputs.toString(), Tables.Format.TSV);
        List<Row> rows = CorpusAudit.score(corpus, "sentence", new CorpusAudit.Job(model.toString(), 0, filter, 3), 1).collectAsList();

        assertEquals(texts.size(), rows.size(), "one row per input, none twice after the retry");
        assertEquals(texts.size(), rows.stream().mapToLong(r -> r.getLong(0)).distinct().count());
        assertEquals(1, ExecutorModels.loads() - loadsBefore, "the model loaded once in this executor, for three partitions and a retry");
        JsonNode chosen = json.path("scan_filter");
        int compared = 0;
        for (Row r : rows) {
            int i = (int) r.getLong(0);
            double score = r.getDouble(1);
            assertEquals(score > 0, r.getBoolean(2), "flagged means a score above 0");
            if (chosen.isMissingNode()) { // no model scan evidence: the attention scan alone, as scan inputs' flags
                assertEquals(json.get("inputs").get(i).get("flagged").asBoolean(), r.getBoolean(2), "input " + i);
                assertEquals(api[i], score, 1e-5, "input " + i);
            } else if (chosen.get("margins").get(i).isNull()) {
                assertFalse(Double.isFinite(score), "not scored by the direction: input " + i);
            } else {
                // A margin is in calibration standard deviations along the direction: the forward's batch-shape noise
                // (about 1e-6 in a state) moves it by up to about 1e-5; a row scored against another's text, by order 1.
                assertEquals(chosen.get("margins").get(i).asDouble(), score, 1e-4, "input " + i);
                compared++;
            }
        }
        assertTrue(chosen.isMissingNode() || compared > 0, "some inputs compared along the direction");

        // Written through Spark's committer with the same forced failure: every row once.
        Path written = tmp.resolve("written");
        Tables.write(CorpusAudit.score(corpus, "sentence", new CorpusAudit.Job(model.toString(), 0, filter, 3), 2), written.toString(), Tables.Format.PARQUET);
        Dataset<Row> back = spark.read().parquet(written.toString());
        assertEquals(texts.size(), back.count());
        assertEquals(texts.size(), back.select("index").distinct().count());
    }

    @Test
    void theAuditCommandWritesItsTableAndRefusesBadInputBeforeWork() throws Exception {
        Path out = tmp.resolve("out");
        Main.Captured r = Main.capture("audit", "--spark", "local[2]", "--model", model.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(),
                "--no-model-scan", "--format", "csv", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("500 rows, "), r.out());
        assertTrue(Files.exists(out.resolve("_SUCCESS")));
        Dataset<Row> table = spark.read().option("header", "true").csv(out.toString());
        assertEquals(List.of("index", "score", "flagged", "prediction"), List.of(table.columns()));
        assertEquals(500, table.count());

        Main.Captured exists = Main.capture("audit", "--model", model.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(), "--out", out.toString());
        assertBadInput(exists, "--out", "exists");
        Main.Captured column = Main.capture("audit", "--spark", "local[1]", "--model", model.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(),
                "--text-column", "text", "--out", tmp.resolve("out2").toString());
        assertBadInput(column, "no 'text' column", "sentence");
        assertFalse(Files.exists(tmp.resolve("out2")), "nothing written");
        assertBadInput(Main.capture("audit", "--model", model.toString(), "--clean", clean.toString(), "--inputs", tmp.resolve("absent.tsv").toString(),
                "--out", tmp.resolve("out3").toString()), "absent.tsv", "not found");
        assertBadInput(Main.capture("audit", "--model", model.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(), "--shrinkage", "2",
                "--out", tmp.resolve("out6").toString()), "--shrinkage"); // scan inputs' own options and checks
        Path decoder = Files.createDirectories(tmp.resolve("decoder")); // refused on its config alone
        Files.writeString(decoder.resolve("config.json"), "{\"model_type\": \"gpt2\", \"architectures\": [\"GPT2LMHeadModel\"], \"n_embd\": 8, "
                + "\"n_layer\": 2, \"n_head\": 2, \"vocab_size\": 30522, \"n_positions\": 64}");
        assertBadInput(Main.capture("audit", "--model", decoder.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(),
                "--out", tmp.resolve("out5").toString()), "decoder language model");
        assertBadInput(Main.capture("audit", "--model", model.toString(), "--clean", clean.toString(), "--inputs", inputs.toString(), "--format", "xls",
                "--out", tmp.resolve("out4").toString()), "unknown format 'xls'");
    }

    @Test
    void parquetCsvAndJsonLinesInputsScoreAsTheTsv() throws Exception {
        byte[] filter;
        try (HeadGuard hg = HeadGuard.load(model.toString())) {
            filter = hg.inputFilter(clean, InputFilter.Settings.defaults()).calibrated().toBytes();
        }
        CorpusAudit.Job job = new CorpusAudit.Job(model.toString(), 0, filter);
        Dataset<Row> tsv = Tables.read(spark, inputs.toString(), Tables.Format.TSV);
        List<Row> expected = CorpusAudit.score(tsv, "sentence", job).orderBy("index").collectAsList();
        // The same rows in the other formats, one part file each so that the row order is the file's.
        Path parquet = tmp.resolve("inputs.parquet");
        Path csv = tmp.resolve("inputs-csv");
        Path jsonl = tmp.resolve("inputs-jsonl");
        tsv.coalesce(1).write().parquet(parquet.toString());
        tsv.coalesce(1).write().option("header", "true").csv(csv.toString());
        tsv.coalesce(1).write().json(jsonl.toString());
        for (Dataset<Row> in : List.of(Tables.read(spark, parquet.toString(), Tables.Format.ofPath(parquet.toString())),
                Tables.read(spark, csv.toString(), Tables.Format.CSV), Tables.read(spark, jsonl.toString(), Tables.Format.JSONL))) {
            List<Row> got = CorpusAudit.score(in, "sentence", job).orderBy("index").collectAsList();
            assertEquals(expected, got);
        }
        // A null text: a row with null score, flagged and prediction, the others scored.
        Dataset<Row> withNull = spark.createDataFrame(List.of(org.apache.spark.sql.RowFactory.create("a fine film ."), org.apache.spark.sql.RowFactory.create((Object) null)),
                new org.apache.spark.sql.types.StructType().add("sentence", org.apache.spark.sql.types.DataTypes.StringType, true));
        List<Row> scored = CorpusAudit.score(withNull, "sentence", job).orderBy("index").collectAsList();
        assertFalse(scored.get(0).isNullAt(1));
        assertTrue(scored.get(1).isNullAt(1) && scored.get(1).isNullAt(2) && scored.get(1).isNullAt(3), scored.get(1).toString());
        assertEquals(Tables.Format.JSONL, Tables.Format.ofPath("x/corpus.jsonl"));
        assertEquals(Tables.Format.TSV, Tables.Format.ofPath("corpus.TSV"));
    }

    static void assertBadInput(Main.Captured r, String... fragments) {
        assertEquals(2, r.code(), "exit code; stderr was: " + r.err());
        String[] lines = r.err().strip().split("\n");
        String last = lines[lines.length - 1];
        assertTrue(last.startsWith("headguard: "), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        for (String f : fragments) {
            assertTrue(last.contains(f), "'" + f + "' in: " + last);
        }
    }
}
