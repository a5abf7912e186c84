package dev.headguard.bench;

import dev.headguard.text.Dataset;
import dev.headguard.text.DatasetReader;
import dev.headguard.text.Example;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The bench's clean draw reads back as the rows the defenses were given. */
class CleanDrawFilesTest {
    @TempDir
    Path tmp;

    @Test
    void aCleanDrawReadsBackAsTheRowsDrawn() {
        Dataset all = new Dataset(List.of(new Example("a fine film", 1), new Example("dull\tand slow", 0), new Example("three\nlines", 1),
                new Example("it works", 1), new Example("no", 0)), List.of("0", "1"), List.of());
        Dataset drawn = all.sample(3, 43);
        DefenseBenchmarkFiles.writeCleanDraws(tmp, Map.of("badnets", drawn));
        Dataset back = DatasetReader.read(tmp.resolve(DefenseBenchmarkFiles.cleanDrawFile("badnets")));
        assertEquals(drawn.size(), back.size());
        for (int i = 0; i < drawn.size(); i++) {
            assertEquals(drawn.examples().get(i).text().replace('\t', ' ').replace('\n', ' '), back.examples().get(i).text(), "row " + i);
            assertEquals(drawn.examples().get(i).label(), back.examples().get(i).label(), "row " + i);
        }
    }
}
