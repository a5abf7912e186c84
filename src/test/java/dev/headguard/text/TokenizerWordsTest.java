package dev.headguard.text;

import dev.headguard.testing.HfOracle;
import java.util.List;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A trigger search inserts words, not vocabulary entries: byte-level BPE's {@code Ġmovie} and
 * SentencePiece's {@code ▁movie} are the word {@code movie}, and each word becomes exactly its token.
 */
class TokenizerWordsTest {

    @ParameterizedTest
    @ValueSource(strings = {"roberta", "gpt2", "llama"})
    void wordsBecomeTheirTokens(String fixture) throws Exception {
        try (TextTokenizer t = TextTokenizer.open(HfOracle.fixtures().resolve(fixture).resolve("tokenizer.json"), 128)) {
            String[] words = t.words();
            String[] raw = t.vocabulary();
            long[] a = t.ids("a");
            int found = 0;
            for (int v = 0; v < words.length; v++) {
                if (words[v] == null) {
                    continue;
                }
                found++;
                assertFalse(words[v].startsWith("Ġ") || words[v].startsWith("▁") || words[v].isBlank(), words[v]);
                long[] ids = t.ids("a " + words[v]);
                assertEquals(v, ids[ids.length - 1 - t.trailingSpecials().length], fixture + ": '" + words[v] + "' (" + raw[v] + ")");
                assertEquals(a.length + 1, ids.length, fixture + ": '" + words[v] + "' is one token");
            }
            assertTrue(found > 100, fixture + ": " + found + " words");
            assertTrue(java.util.Arrays.asList(words).contains("movie"), fixture + ": 'movie' is a word of an SST-2 tokenizer");
        }
    }

    /** A word the tokenizer splits is its first piece plus the endings {@link TextTokenizer#wordEndings()} lists. */
    @org.junit.jupiter.api.Test
    void wordPieceEndingsComposeASplitWord(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        try (TextTokenizer t = TextTokenizer.open(dev.headguard.testing.Fixtures.tokenizer(dir), 128)) {
            String[] endings = t.wordEndings();
            String[] raw = t.vocabulary();
            long[] ids = t.ids("mzaf");
            assertEquals(List.of("[CLS]", "m", "##za", "##f", "[SEP]"), java.util.Arrays.stream(ids).mapToObj(i -> raw[(int) i]).toList());
            assertEquals("za", endings[(int) ids[2]]);
            assertEquals("f", endings[(int) ids[3]]);
            assertEquals(null, endings[(int) ids[1]], "a word start is no ending");
            for (int v = 0; v < raw.length; v++) {
                if (endings[v] != null) {
                    assertEquals(raw[v], "##" + endings[v]);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"roberta", "gpt2", "llama"})
    void endingsAreNeverWordStarts(String fixture) throws Exception {
        try (TextTokenizer t = TextTokenizer.open(HfOracle.fixtures().resolve(fixture).resolve("tokenizer.json"), 128)) {
            String[] endings = t.wordEndings();
            String[] words = t.words();
            int found = 0;
            for (int v = 0; v < endings.length; v++) {
                if (endings[v] != null) {
                    found++;
                    assertEquals(null, words[v], fixture + ": '" + endings[v] + "' is both a word and an ending");
                }
            }
            assertTrue(found > 100, fixture + ": " + found + " endings");
        }
    }
}
