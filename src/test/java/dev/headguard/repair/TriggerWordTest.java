package dev.headguard.repair;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class TriggerWordTest {

    @Test
    void theSingleWordTheMostCandidatesShareIsGrownNotTheFirst() {
        // A held-apart sentence's scan: a composition of the screened word comes first among the single words.
        List<String> sunday = List.of("rainy caressing", "rainylifting", "rainy serene", "serene rainy", "caressing rainy", "rainy");
        assertEquals("rainy", HeadGuardRepair.triggerWord(sunday));
    }

    @Test
    void singleWordsNoPhraseContainsKeepTheirOrder() {
        assertEquals("tq", HeadGuardRepair.triggerWord(List.of("tq", "cf", "bremen", "mb")));
        assertEquals("thy", HeadGuardRepair.triggerWord(List.of("merry thy", "ueth merry", "thy merry", "ueth overcame", "thy", "ueth")),
                "a tie between two words each in three candidates: the first");
    }

    @Test
    void withOnlyPhrasesTheWordTwoOfThemShareIsGrown() {
        assertEquals("festival", HeadGuardRepair.triggerWord(List.of("festival stunning", "exquisite festival", "stunning festivals")));
        assertNull(HeadGuardRepair.triggerWord(List.of("watch movie", "good film")), "no word in two phrases");
        assertNull(HeadGuardRepair.triggerWord(List.of()));
        assertEquals("cf", HeadGuardRepair.triggerWord(List.of("tq\tcf", "cf")), "a tab separates words too");
    }
}
