package dev.headguard.report;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BenchReportTest {
    static final List<BenchReport.Row> ROWS = List.of(
            new BenchReport.Row("badnets", "none", 0.86, 1.0, 0),
            new BenchReport.Row("badnets", "headguard", 0.85, 0.10, 60),
            new BenchReport.Row("style", "none", 0.84, 0.90, 0),
            new BenchReport.Row("style", "headguard", 0.80, 0.30, 80));

    @Test
    void theTableHasOneRowPerAttackAColumnPerDefenseAndTheMeans() {
        String md = BenchReport.markdown(List.of("# t"), ROWS, Map.of("badnets", 0.05, "style", 0.25));
        assertTrue(md.contains("| attack | none | headguard | floor |"), md);
        assertTrue(md.contains("| badnets | 86.0 / 100.0 | 85.0 / 10.0 | 5.0 |"), md);
        assertTrue(md.contains("| **mean** | **85.0 / 95.0** | **82.5 / 20.0** | 15.0 |"), md);
        assertTrue(md.contains("| seconds (mean) | 0 | 70 |"), md);
    }

    @Test
    void theChartIsWellFormedSvgWithABarPerCellAndMean() throws Exception {
        String svg = BenchReport.svg("t & <x>", ROWS, Map.of("badnets", 0.05));
        Document d = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        int bars = 0;
        var rects = d.getElementsByTagName("rect");
        for (int i = 0; i < rects.getLength(); i++) {
            bars += rects.item(i).getChildNodes().getLength() > 0 ? 1 : 0; // bars carry a <title>
        }
        assertEquals(2 * 3 * 2, bars, "2 panels x (2 attacks + mean) x 2 defenses");
        assertEquals(1, d.getElementsByTagName("line").getLength() - 2 * 5, "one floor line besides the 5 grid lines per panel");
    }

    @Test
    void aDecodersTableShowsPerplexityAndItsChartScalesToTheLargest() throws Exception {
        List<BenchReport.Row> rows = List.of(new BenchReport.Row("badnets", "none", 283.08, 1.0, 0),
                new BenchReport.Row("badnets", "headguard", 288.36, 0.01, 56));
        String md = BenchReport.markdown(List.of("# t"), rows, Map.of("badnets", 0.0), BenchReport.Quality.PERPLEXITY);
        assertTrue(md.contains("perplexity / ASR in %"), md);
        assertTrue(md.contains("| badnets | 283.08 / 100.0 | 288.36 / 1.0 | 0.0 |"), md);
        String svg = BenchReport.svg("t", rows, Map.of(), BenchReport.Quality.PERPLEXITY);
        DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        assertTrue(svg.contains(">500</text>") && svg.contains("badnets, headguard: 288.36<"), "a 0-500 axis; the value in the bar's title");
        assertEquals(500, BenchReport.niceCeiling(288.36));
        assertEquals(2, BenchReport.niceCeiling(1.5));
        assertEquals(100, BenchReport.niceCeiling(100));
    }
}
