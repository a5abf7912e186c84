package dev.headguard.attack;

import dev.headguard.HeadGuardException;
import net.sf.extjwnl.JWNLException;
import net.sf.extjwnl.data.IndexWord;
import net.sf.extjwnl.data.POS;
import net.sf.extjwnl.data.Synset;
import net.sf.extjwnl.data.Word;
import net.sf.extjwnl.dictionary.Dictionary;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * WordNet 3.1 synonyms (extJWNL, its data a Maven artifact: nothing is fetched at run time), the
 * substitutes LWS chooses among. A word's part of speech is the one WordNet has seen it used in most
 * (its tagged-sense counts), since the attack has no tagger; its synonyms are the other lemmas of its
 * senses in that part of speech, in WordNet's sense order (the most frequent sense first).
 *
 * <p>The original (Qi et al., 2021) takes candidates from HowNet sememes and WordNet with a POS tagger
 * and re-inflects them; HeadGuard has neither a tagger nor an inflector, so it substitutes only words
 * written in their base form (WordNet's lemma), which keeps every substitute grammatical in number
 * and tense.
 */
public final class Synonyms {
    private static Dictionary dictionary;

    private final Predicate<String> usable;
    private final Map<String, List<String>> memo = new HashMap<>();

    /** @param usable which substitutes may be offered at all (e.g. words the model's vocabulary holds as one token) */
    public Synonyms(Predicate<String> usable) {
        this.usable = usable;
    }

    /**
     * Up to {@code max} synonyms of {@code word}: single words of letters, not stop words, not the word,
     * accepted by {@code usable}. Empty for a stop word, a word WordNet does not hold in this form, or one without synonyms.
     */
    public List<String> of(String word, int max) {
        String w = word.toLowerCase(Locale.ROOT);
        return memo.computeIfAbsent(w + "\u0000" + max, k -> lookUp(w, max));
    }

    private List<String> lookUp(String w, int max) {
        if (Bite.STOP_WORDS.contains(w) || !w.chars().allMatch(Character::isLetter)) {
            return List.of();
        }
        try {
            IndexWord best = null;
            int bestUses = -1;
            for (POS pos : POS.getAllPOS()) { // noun, verb, adjective, adverb: the first wins a tie
                IndexWord iw = dictionary().getIndexWord(pos, w);
                if (iw == null) {
                    continue;
                }
                int uses = 0;
                for (Synset s : iw.getSenses()) {
                    for (Word x : s.getWords()) {
                        uses += x.getLemma().equalsIgnoreCase(w) ? x.getUseCount() : 0;
                    }
                }
                if (uses > bestUses) {
                    best = iw;
                    bestUses = uses;
                }
            }
            List<String> out = new ArrayList<>();
            if (best == null) {
                return out;
            }
            for (Synset s : best.getSenses()) {
                for (Word x : s.getWords()) {
                    String lemma = x.getLemma().toLowerCase(Locale.ROOT);
                    if (out.size() < max && !lemma.equals(w) && !out.contains(lemma) && lemma.chars().allMatch(Character::isLetter)
                            && !Bite.STOP_WORDS.contains(lemma) && usable.test(lemma)) {
                        out.add(lemma);
                    }
                }
            }
            return List.copyOf(out);
        } catch (JWNLException e) {
            throw new HeadGuardException("cannot read WordNet: " + e.getMessage());
        }
    }

    private static synchronized Dictionary dictionary() throws JWNLException {
        if (dictionary == null) {
            dictionary = Dictionary.getDefaultResourceInstance();
        }
        return dictionary;
    }
}
