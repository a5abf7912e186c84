package dev.headguard.text;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A sentence file may be a pipe (--input <(...), /dev/stdin): it is read once, not measured or read twice. */
class SentenceFilePipeTest {

    @Test
    @org.junit.jupiter.api.Timeout(value = 20, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD) // a second read of a pipe blocks
    void readsSentencesFromAPipe(@TempDir Path tmp) throws Exception {
        Path fifo = tmp.resolve("pipe");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assumeTrue(mk.waitFor() == 0 && Files.exists(fifo), "mkfifo is not available here");
        Thread writer = new Thread(() -> {
            try {
                Files.writeString(fifo, "sentence\tlabel\na fine film\t1\na dull one\t0\n", StandardCharsets.UTF_8);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        writer.start();
        assertEquals(List.of("a fine film", "a dull one"), SentenceFile.readSentences(fifo));
        writer.join(5000);
    }
}
