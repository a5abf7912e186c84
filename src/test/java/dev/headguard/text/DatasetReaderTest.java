package dev.headguard.text;

import dev.headguard.HeadGuardException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DatasetReaderTest {
    @TempDir
    Path tmp;

    Path file(String name, String content) throws IOException {
        return Files.writeString(tmp.resolve(name), content);
    }

    @Test
    void readsTheBenchmarkTsvLayout() throws IOException {
        Dataset d = DatasetReader.read(file("a.tsv", "sentence\tlabel\ngood film .\t1\nbad film .\t0\n"));
        assertEquals(List.of(new Example("good film .", 1), new Example("bad film .", 0)), d.examples());
        assertEquals(List.of("0", "1"), d.labelNames());
    }

    @Test
    void readsQuotedCsvWithSeparatorsNewlinesAndQuotes() throws IOException {
        Path f = file("a.csv", "id,text,label\n1,\"a, b\",pos\n2,\"line one\nline \"\"two\"\"\",neg\n3,plain,pos\n");
        Dataset d = DatasetReader.read(f, new DatasetReader.Options(null, "text", "label", true, List.of(), DatasetReader.OnBadRow.FAIL));
        assertEquals("a, b", d.examples().get(0).text());
        assertEquals("line one\nline \"two\"", d.examples().get(1).text());
        assertEquals(List.of("pos", "neg"), d.labelNames(), "names in order of appearance");
        assertEquals(0, d.examples().get(2).label());
    }

    @Test
    void readsJsonlAndHeaderlessColumnsByIndex() throws IOException {
        Dataset j = DatasetReader.read(file("a.jsonl", "{\"text\":\"yes\",\"y\":1}\n\n{\"text\":\"no\",\"y\":0}\n"),
                new DatasetReader.Options(null, "text", "y", true, List.of(), DatasetReader.OnBadRow.FAIL));
        assertEquals(2, j.size());
        Dataset h = DatasetReader.read(file("b.tsv", "1\tfine\n0\tawful\n"),
                new DatasetReader.Options(null, "1", "0", false, List.of(), DatasetReader.OnBadRow.FAIL));
        assertEquals(new Example("awful", 0), h.examples().get(1));
    }

    @Test
    void declaredLabelsMapInOrderAndUnknownOnesFailOrAreCounted() throws IOException {
        Path f = file("c.tsv", "sentence\tlabel\nx\tneg\ny\tpos\nz\tmaybe\n");
        DatasetReader.Options o = DatasetReader.Options.defaults().withLabels(List.of("neg", "pos"));
        HeadGuardException e = assertThrows(HeadGuardException.class, () -> DatasetReader.read(f, o));
        assertTrue(e.getMessage().contains("line 4") && e.getMessage().contains("unknown label 'maybe'"), e.getMessage());
        Dataset d = DatasetReader.read(f, o.withOnBadRow(DatasetReader.OnBadRow.SKIP));
        assertEquals(2, d.size());
        assertEquals(List.of("line 4: unknown label 'maybe' (declared: neg, pos)"), d.skipped());
    }

    @Test
    void badFilesGetErrorsThatNameTheProblem() throws IOException {
        assertTrue(assertThrows(HeadGuardException.class, () -> DatasetReader.read(file("e.tsv", ""))).getMessage().contains("empty"));
        assertTrue(assertThrows(HeadGuardException.class, () -> DatasetReader.read(file("f.tsv", "text\tlabel\nx\t1\n"))).getMessage().contains("no 'sentence' column"));
        assertTrue(assertThrows(HeadGuardException.class, () -> DatasetReader.read(file("g.tsv", "sentence\tlabel\n \t1\nok\t0\n"))).getMessage().contains("line 2: blank text"));
        assertEquals(1, DatasetReader.read(file("h.tsv", "sentence\tlabel\na\t1\nb\t1\n")).size() / 2, "one class is fine for a test set");
        assertTrue(assertThrows(HeadGuardException.class, () -> DatasetReader.read(file("i.csv", "sentence,label\n\"open,1\n"))).getMessage().contains("never closed"));
        assertTrue(assertThrows(HeadGuardException.class, () -> DatasetReader.read(tmp.resolve("none.tsv"))).getMessage().endsWith("file not found"));
    }

    @Test
    void keepBlankKeepsParallelFilesAligned() throws IOException {
        Path f = file("p.tsv", "sentence\tlabel\na\t0\n\t1\nc\t0\n");
        Dataset d = DatasetReader.read(f, DatasetReader.Options.defaults().withOnBadRow(DatasetReader.OnBadRow.KEEP_BLANK));
        assertEquals(List.of("a", "", "c"), d.texts());
    }

    @Test
    void samplingAndSplittingAreSeeded() throws IOException {
        StringBuilder sb = new StringBuilder("sentence\tlabel\n");
        for (int i = 0; i < 100; i++) {
            sb.append("s").append(i).append('\t').append(i % 2).append('\n');
        }
        Dataset d = DatasetReader.read(file("s.tsv", sb.toString()));
        assertEquals(d.sample(10, 3).examples(), d.sample(10, 3).examples());
        assertTrue(!d.sample(10, 3).examples().equals(d.sample(10, 4).examples()));
        List<Dataset> parts = d.split(0.2, 1);
        assertEquals(80, parts.get(0).size());
        assertEquals(20, parts.get(1).size());
    }

    @Test
    void aByteOrderMarkIsNotPartOfTheFirstColumnName() throws IOException {
        Dataset d = DatasetReader.read(file("bom.tsv", "\uFEFFsentence\tlabel\ngood .\t1\nbad .\t0\n"));
        assertEquals(2, d.size());
    }

    @Test
    void labelTyposAreRefusedNotTurnedIntoClasses() throws IOException {
        Path gapFile = file("gap.tsv", "sentence\tlabel\na .\t0\nb .\t1\nc .\t7\nd .\t0\n");
        HeadGuardException gap = assertThrows(HeadGuardException.class, () -> DatasetReader.requireEveryClass(gapFile, DatasetReader.read(gapFile)));
        assertTrue(gap.getMessage().contains("gap.tsv") && gap.getMessage().contains("label 2 has no rows") && gap.getMessage().contains("label 7 has 1"),
                gap.getMessage());
        HeadGuardException mixed = assertThrows(HeadGuardException.class,
                () -> DatasetReader.read(file("mixed.tsv", "sentence\tlabel\na .\t0\nb .\t1\nc .\tpositive\n")));
        assertTrue(mixed.getMessage().contains("line 4") && mixed.getMessage().contains("'positive' is a name"), mixed.getMessage());
        Dataset skipped = DatasetReader.read(file("mixed.tsv", "sentence\tlabel\na .\t0\nb .\t1\nc .\tpositive\n"),
                DatasetReader.Options.defaults().withOnBadRow(DatasetReader.OnBadRow.SKIP));
        assertEquals(List.of("0", "1"), skipped.labelNames(), "two classes, the typo skipped");
        assertEquals(1, skipped.skipped().size());
    }

    @Test
    void readForAModelLabelsAreItsClassesByNameOrId() throws IOException {
        DatasetReader.Options forModel = DatasetReader.Options.defaults().forModel(List.of("negative", "positive"));
        Dataset d = DatasetReader.read(file("m.tsv", "sentence\tlabel\na .\tpositive\nb .\t0\nc .\tnegative\n"), forModel);
        assertEquals(List.of(1, 0, 0), java.util.Arrays.stream(d.labels()).boxed().toList());
        assertEquals(List.of("negative", "positive"), d.labelNames());
        HeadGuardException e = assertThrows(HeadGuardException.class,
                () -> DatasetReader.read(file("m7.tsv", "sentence\tlabel\na .\t1\nb .\t7\n"), forModel));
        assertTrue(e.getMessage().contains("m7.tsv: line 3") && e.getMessage().contains("'7' is not a class of the model"), e.getMessage());
        Dataset s = DatasetReader.read(file("m7.tsv", "sentence\tlabel\na .\t1\nb .\t7\n"), forModel.withOnBadRow(DatasetReader.OnBadRow.SKIP));
        assertEquals(1, s.size());
    }

    @Test
    void brokenJsonLinesStrayColumnsAndOverlongLinesAreBadRowsThatCanBeSkipped() throws IOException {
        DatasetReader.Options skip = DatasetReader.Options.defaults().withOnBadRow(DatasetReader.OnBadRow.SKIP);
        Path j = file("a.jsonl", "{\"sentence\":\"yes\",\"label\":1}\n{\"sentence\": \"oops\", \"label\": \n{\"sentence\":\"no\",\"label\":0}\n");
        HeadGuardException e = assertThrows(HeadGuardException.class, () -> DatasetReader.read(j));
        assertTrue(e.getMessage().contains("a.jsonl: line 2: not a JSON object"), e.getMessage());
        assertEquals(2, DatasetReader.read(j, skip).size());
        Path extra = file("x.tsv", "sentence\tlabel\na .\t1\nb .\t0\tstray\nc .\t0\n");
        HeadGuardException x = assertThrows(HeadGuardException.class, () -> DatasetReader.read(extra));
        assertTrue(x.getMessage().contains("line 3: 3 fields where the header has 2"), x.getMessage());
        assertEquals(2, DatasetReader.read(extra, skip).size());
        Path longLine = file("l.tsv", "sentence\tlabel\na .\t1\n" + "x".repeat(SentenceFile.MAX_CHARS * 10 + 1) + "\t0\nc .\t0\n");
        assertThrows(HeadGuardException.class, () -> DatasetReader.read(longLine));
        Dataset l = DatasetReader.read(longLine, skip);
        assertEquals(2, l.size());
        assertTrue(l.skipped().get(0).contains("line 3"), l.skipped().toString());
    }
}
