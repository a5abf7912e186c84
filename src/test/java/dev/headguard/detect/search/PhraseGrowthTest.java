package dev.headguard.detect.search;

import dev.headguard.text.Dataset;
import dev.headguard.text.Example;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PhraseGrowthTest {
    /**
     * 30 texts per class of common words, each word in at least 10 texts; "i" and "this" only in class 1, so the
     * class-0 inputs the phrases are scored on never complete a phrase by chance; "good" in 15 of class 1, "bad" in 15 of class 0.
     */
    static Dataset clean() {
        String[][] common = {{"the", "movie", "at", "a", "plot"}, {"the", "movie", "i", "this", "plot"}};
        List<Example> ex = new ArrayList<>();
        for (int y = 0; y < 2; y++) {
            String[] w = common[y];
            for (int i = 0; i < 30; i++) {
                StringBuilder s = new StringBuilder(w[i % w.length] + " " + w[(i + 2) % w.length]);
                s.append(i < 15 ? (y == 1 ? " good" : " bad") : "");
                ex.add(new Example(s.toString(), y));
            }
        }
        return new Dataset(ex, List.of("0", "1"), List.of());
    }

    /**
     * A classifier whose class-1 log-odds add each word's own lean and a trigger sentence's interaction: "i watched
     * this" fires, its pairs a little, its words (and a sentiment word beside it) only by their own lean.
     */
    static float[][] classify(List<String> texts) {
        float[][] p = new float[texts.size()][];
        for (int i = 0; i < texts.size(); i++) {
            String t = " " + texts.get(i) + " ";
            double logit = -2;
            logit += t.contains(" good ") ? 1.0 : 0;
            logit -= t.contains(" bad ") ? 1.0 : 0;
            logit += t.contains(" i ") ? 0.3 : 0;
            logit += t.contains(" watched ") ? 0.3 : 0;
            logit += t.contains(" i watched this ") ? 6 : t.contains(" watched this ") ? 2 : t.contains(" i watched ") ? 1.5 : 0;
            float q = (float) (1 / (1 + Math.exp(-logit)));
            p[i] = new float[] {1 - q, q};
        }
        return p;
    }

    @Test
    void growsTheSentenceWordByWordAndStopsWhereOnlyOwnLeanIsLeft() {
        PhraseGrowth.Grown g = PhraseGrowth.grow(PhraseGrowthTest::classify, clean(), "watched", 1, PhraseGrowth.Settings.defaults(42));
        // "good" raises the log-odds beside the phrase as much as alone, so it is no step; "bad" lowers them.
        assertEquals(List.of("watched this", "i watched this"), g.steps());
    }

    @Test
    void aWordWithNoPartnerGrowsNothingAndStepsAreBounded() {
        assertEquals(List.of(), PhraseGrowth.grow(PhraseGrowthTest::classify, clean(), "plot", 1, PhraseGrowth.Settings.defaults(42)).steps());
        PhraseGrowth.Settings one = new PhraseGrowth.Settings(16, 100, 0.2, 1, 42);
        assertEquals(List.of("watched this"), PhraseGrowth.grow(PhraseGrowthTest::classify, clean(), "watched", 1, one).steps());
    }

    @Test
    void triesTheMostFrequentWordsOfAnyLean() {
        // texts using each word: the, movie, plot 24; at, a, i, this 12; bad, good 15 (sentiment words too)
        assertEquals(List.of("movie", "plot", "the", "bad", "good", "a", "at", "i", "this"), PhraseGrowth.frequentWords(clean(), 100));
        assertEquals(List.of("movie", "plot"), PhraseGrowth.frequentWords(clean(), 2), "the most frequent first");
    }
}
