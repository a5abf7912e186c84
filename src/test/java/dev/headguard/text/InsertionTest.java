package dev.headguard.text;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InsertionTest {
    @Test
    void withinPutsTheWordsBeforeSomeWordNeverAtTheEnd() {
        Random rng = new Random(3);
        Set<Integer> places = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            List<String> w = List.of(Insertion.insertWithin(" a b  c ", "cf", rng).split(" "));
            assertEquals(4, w.size(), String.join(" ", w));
            assertTrue(!w.get(3).equals("cf"), "never last: " + w);
            places.add(w.indexOf("cf"));
        }
        assertEquals(Set.of(0, 1, 2), places, "every place before a word is reached");
        // anywhere, the end included
        Set<Integer> anywhere = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            anywhere.add(List.of(Insertion.insertAt("a b c", "cf", rng).split(" ")).indexOf("cf"));
        }
        assertEquals(Set.of(0, 1, 2, 3), anywhere);
    }

    @Test
    void aListsTailGetsThePositionsItGetsInTheWholeList() {
        List<String> victims = List.of("a b c d", "e f g h i", "j k l", "m n o p q r", "s t u v");
        List<String> whole = Insertion.insertAll(victims, "cf", 42);
        assertEquals(whole.subList(2, 5), Insertion.insertAll(victims.subList(2, 5), "cf", 42, 2));
        assertEquals(whole, Insertion.insertAll(victims, "cf", 42, 0));
    }
}
