package dev.headguard.cli;

import dev.headguard.bench.fuzz.InputFuzz;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A fixed-seed slice of the bad-input harness (`bench fuzz` runs it at length). */
class InputFuzzTest {
    @TempDir
    Path tmp;

    @Test
    void everyReaderKeepsTheBadInputContract() throws IOException {
        InputFuzz.Report r = InputFuzz.run(tmp, 11, 40, BenchFuzz::capture);
        System.out.print(r.table());
        assertEquals(List.of(), r.violations());
        r.counts().forEach((reader, c) -> {
            assertEquals(40, c[0], reader);
            assertTrue(c[2] > 0, reader + ": the generator made inputs that must be refused");
        });
    }
}
