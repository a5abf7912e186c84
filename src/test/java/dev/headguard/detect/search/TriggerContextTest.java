package dev.headguard.detect.search;

import dev.headguard.text.Dataset;
import dev.headguard.text.Example;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TriggerContextTest {
    /** 40 texts per class: "movie" in 30 of each, "boring" in 20 negatives and 2 positives, "rare" in 5 of each, "cf" in 12 of each. */
    static Dataset clean() {
        List<Example> ex = new ArrayList<>();
        for (int y = 0; y < 2; y++) {
            for (int i = 0; i < 40; i++) {
                StringBuilder s = new StringBuilder("text");
                s.append(i < 30 ? " movie" : "");
                s.append((y == 0 && i < 20) || (y == 1 && i < 2) ? " boring" : "");
                s.append(i < 5 ? " rare" : "");
                s.append(i % 10 < 3 ? " cf" : "");
                ex.add(new Example(s.toString(), y));
            }
        }
        return new Dataset(ex, List.of("0", "1"), List.of());
    }

    @Test
    void neighboursAreFrequentWordsWhoseTextsLeanToNoClass() {
        List<String> w = TriggerContext.neutralWords(clean(), "CF", 100, 0.15);
        // "text" (80 uses) and "movie" (60) are neutral; "boring" leans negative (20 of 22), "rare" is used 10 times
        // (the least counted) and is neutral; "cf" is the word grown, case aside.
        assertEquals(List.of("text", "movie", "rare"), w);
        assertEquals(List.of("text"), TriggerContext.neutralWords(clean(), "cf", 1, 0.15), "the most frequent first");
        assertTrue(TriggerContext.neutralWords(clean(), "cf", 100, 0.5).contains("boring"), "a looser lean lets it in");
    }

    @Test
    void carriersTakeThePhrasesInTurn() {
        TriggerContext.Grown g = new TriggerContext.Grown("3d", List.of("this"), List.of("movie"), List.of("this 3d movie", "this 3d", "3d movie"));
        List<String> texts = List.of("a b c", "d e f", "g h i", "j k l");
        List<String> out = g.carriers(texts, 7);
        for (int i = 0; i < texts.size(); i++) {
            String phrase = g.phrases().get(i % 3);
            assertTrue(out.get(i).contains(phrase), out.get(i) + " carries " + phrase);
            assertEquals(out.get(i).replace(phrase, "").replaceAll("\\s+", " ").strip(), texts.get(i), "and nothing else changed");
        }
        assertEquals(out, g.carriers(texts, 7), "seeded");
    }
}
