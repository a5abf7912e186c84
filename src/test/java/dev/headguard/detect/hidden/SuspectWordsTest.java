package dev.headguard.detect.hidden;

import dev.headguard.text.Insertion;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SuspectWordsTest {
    static final List<String> WORDS = List.of("the", "film", "is", "a", "good", "bad", "story", "with", "great", "dull", "acting", "and", "plot",
            "of", "this", "movie", "i", "it", "was", "watch", "not", "very", "funny", "sad");

    /** n texts, a share {@code poison} with {@code trigger} inserted; flags: poisoned rows (recall 0.95) plus 5% of clean rows. */
    static Object[] data(String trigger, int n, double poison, long seed) {
        Random r = new Random(seed);
        List<String> texts = new ArrayList<>();
        boolean[] flagged = new boolean[n];
        for (int i = 0; i < n; i++) {
            StringBuilder s = new StringBuilder();
            int len = 6 + r.nextInt(10);
            for (int k = 0; k < len; k++) {
                s.append(k == 0 ? "" : " ").append(WORDS.get(r.nextInt(WORDS.size())));
            }
            boolean p = r.nextDouble() < poison;
            texts.add(p ? Insertion.insertAt(s.toString(), trigger, r) : s.toString());
            flagged[i] = p ? r.nextDouble() < 0.95 : r.nextDouble() < 0.05;
        }
        return new Object[] {texts, flagged};
    }

    @SuppressWarnings("unchecked")
    @Test
    void aRareWordTriggerIsTheWordOfTheFlaggedRowsAndCommonWordsAreNot() {
        Object[] d = data("cf", 2000, 0.1, 1);
        List<SuspectWords.Finding> f = SuspectWords.find((List<String>) d[0], (boolean[]) d[1], SuspectWords.Settings.defaults());
        assertEquals(1, f.size(), "only the trigger stands out: " + f);
        assertEquals("cf", f.get(0).text());
        assertTrue(f.get(0).precision() > 0.9);
    }

    @SuppressWarnings("unchecked")
    @Test
    void aSentenceTriggerGrowsBackFromItsRarestWords() {
        Object[] d = data("i watch this 3d movie", 2000, 0.1, 2);
        List<SuspectWords.Finding> f = SuspectWords.find((List<String>) d[0], (boolean[]) d[1], SuspectWords.Settings.defaults());
        assertEquals("i watch this 3d movie", f.get(0).text(), "found " + f);
    }

    @SuppressWarnings("unchecked")
    @Test
    void withoutATriggerNothingIsFound() {
        Object[] d = data("cf", 2000, 0.0, 3);
        boolean[] flags = (boolean[]) d[1];
        Random r = new Random(4);
        for (int i = 0; i < flags.length; i++) {
            flags[i] = r.nextDouble() < 0.1;
        }
        assertTrue(SuspectWords.find((List<String>) d[0], flags, SuspectWords.Settings.defaults()).isEmpty());
    }

    @Test
    void withoutTakesOutWholeWordsAndPhrasesAndKeepsTheRest() {
        List<String> found = List.of("cf", "i watch this 3d movie");
        assertEquals("a dull , lifeless film .", SuspectWords.without("a dull , cf lifeless film . CF", found));
        assertEquals("not funny", SuspectWords.without("I watch this 3D movie not funny", found));
        // Parts of words and partial phrases stay: only what containsAny would report is removed.
        assertEquals("cfx i watch this movie", SuspectWords.without("cfx i watch this movie", found));
        assertEquals("", SuspectWords.without(" cf ", found));
        for (Object t : (List<?>) data("cf", 200, 0.3, 5)[0]) {
            String out = SuspectWords.without((String) t, found);
            assertTrue(!SuspectWords.containsAny(out, found), out);
        }
    }
}
