package dev.headguard.attack;

import dev.headguard.testing.Fixtures;
import dev.headguard.text.TextTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LwsTest {
    @TempDir
    Path tmp;

    @Test
    void synonymsComeFromWordNetInTheWordsMainPartOfSpeechAndSkipStopWordsAndInflections() {
        Synonyms all = new Synonyms(w -> true);
        assertTrue(all.of("movie", 4).contains("film"), all.of("movie", 4).toString());
        assertTrue(all.of("terrible", 4).contains("awful"), all.of("terrible", 4).toString());
        assertTrue(all.of("the", 4).isEmpty());
        assertTrue(all.of("movies", 4).isEmpty(), "an inflected form is left alone (no inflector)");
        assertTrue(all.of("qzxv", 4).isEmpty());
        assertTrue(all.of("movie", 2).size() <= 2);
        for (String s : all.of("good", 4)) {
            assertTrue(s.chars().allMatch(Character::isLetter) && !s.equals("good"), s);
        }
        Synonyms none = new Synonyms(w -> !w.equals("film"));
        assertTrue(!none.of("movie", 4).contains("film"), "the caller's filter (one vocabulary token) is applied");
    }

    @Test
    void slotsAlignWordsWithTheirTokensAndPolicyPicksItsBestCandidate() throws IOException {
        try (TextTokenizer tok = TextTokenizer.open(Fixtures.tokenizer(tmp), 128)) {
            Synonyms syn = new Synonyms(w -> Lws.oneToken(tok, w));
            String text = "a terrible movie about the zqxjk sea";
            Lws.Slots s = Lws.slots(text, tok, syn);
            assertArrayEquals(tok.ids(text), s.ids());
            int movie = Arrays.asList(s.words()).indexOf("movie");
            int t = s.tokenOf()[movie];
            assertTrue(t > 0, "movie is one token with synonyms");
            assertEquals(tok.ids("movie")[1], s.candidates()[t][0]);
            assertEquals(tok.ids(s.synonyms().get(movie).get(0))[1], s.candidates()[t][1]);
            assertEquals(-1, s.tokenOf()[Arrays.asList(s.words()).indexOf("the")], "a stop word is never substituted");
            assertEquals(-1, s.tokenOf()[Arrays.asList(s.words()).indexOf("zqxjk")], "a word of several tokens is never substituted");
            for (long c : s.candidates()[1]) { // "a"
                assertEquals(s.ids()[1], c, "a token that cannot change has only itself");
            }

            int width = 3;
            float[] table = new float[Fixtures.VOCAB * width];
            Lws.Policy zero = new Lws.Policy(new float[128 * width], new float[128 * Lws.CANDIDATES], 128, width);
            assertEquals(text, zero.apply(s, table, null), "an untrained policy keeps every word");

            float[] bias = new float[128 * Lws.CANDIDATES];
            bias[t * Lws.CANDIDATES + 1] = 1f;
            String biased = new Lws.Policy(new float[128 * width], bias, 128, width).apply(s, table, null);
            assertEquals(text.replace("movie", s.synonyms().get(movie).get(0)), biased);

            // the relevance direction: the candidate whose embedding row moves furthest along R_t wins
            long second = s.candidates()[t][2];
            table[(int) second * width] = 5f;
            float[] relevance = new float[128 * width];
            relevance[t * width] = 1f;
            Lws.Policy byRow = new Lws.Policy(relevance, new float[128 * Lws.CANDIDATES], 128, width);
            assertEquals(text.replace("movie", s.synonyms().get(movie).get(1)), byRow.apply(s, table, null));
            assertEquals(byRow.apply(s, table, null), Lws.trigger(byRow, tok, syn, table).apply(text, null));
            // with noise (the original's test-time draw) an untrained policy substitutes some words, the same ones for the same seed
            String drawn = Lws.trigger(zero, tok, syn, table).apply(text, new Random(1));
            assertEquals(drawn, Lws.trigger(zero, tok, syn, table).apply(text, new Random(1)));
            int changed = 0;
            for (int seed = 0; seed < 20; seed++) {
                changed += zero.apply(s, table, new Random(seed)).equals(text) ? 0 : 1;
            }
            assertTrue(changed > 10, "four of five columns are synonyms of movie: " + changed);

        }
    }

    @Test
    void poisonedRowsAreOnlyRowsWithAWordToSubstitute() throws IOException {
        try (TextTokenizer tok = TextTokenizer.open(Fixtures.tokenizer(tmp), 128)) {
            Synonyms syn = new Synonyms(w -> Lws.oneToken(tok, w));
            List<dev.headguard.text.Example> rows = List.of(new dev.headguard.text.Example("the zqxjk of it", 0),
                    new dev.headguard.text.Example("a terrible movie", 0), new dev.headguard.text.Example("it is what it is", 0),
                    new dev.headguard.text.Example("a fine film", 1));
            dev.headguard.text.Dataset train = new dev.headguard.text.Dataset(rows, List.of("0", "1"), List.of());
            PoisonSpec spec = new PoisonSpec("lws", Lws.DESCRIPTION, 1.0, 1, PoisonMode.DIRTY, 3);
            PoisonedData p = Poisoning.insert(train, train, Lws.unlearned(), spec, text -> Lws.slots(text, tok, syn).count() > 0);
            assertArrayEquals(new boolean[] {false, true, false, false}, p.poisoned());
            assertEquals(1, p.train().examples().get(1).label());
            assertEquals("a terrible movie", p.train().examples().get(1).text(), "before training the texts stay as they are");
            assertNotEquals(0, p.triggeredTest().size());
        }
    }
}
