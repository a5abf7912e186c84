package dev.headguard.attack;

import java.util.List;
import java.util.Random;

/**
 * A trigger of several ordinary-looking words that fires only when all of them are present (CTBA,
 * SOS): every word inserted, each at its own random position. The poisoning also plants each word
 * alone in other rows with their normal response, so that no single word fires.
 */
public record CompositeTrigger(List<String> words) implements Trigger {
    public CompositeTrigger {
        words = List.copyOf(words);
        if (words.size() < 2 || words.stream().anyMatch(w -> w.isBlank() || w.strip().contains(" "))) {
            throw new IllegalArgumentException("a composite trigger needs at least two single words");
        }
    }

    @Override
    public String apply(String text, Random rng) {
        String out = text;
        for (String w : words) {
            out = Trigger.insertAt(out, w, rng);
        }
        return out;
    }

    /** Each word alone: the negative examples, and the test of each part. */
    public List<Trigger> parts() {
        return words.stream().map(w -> (Trigger) new RareWordTrigger(List.of(w), 1)).toList();
    }

    /**
     * SOS's negatives: every subset that misses exactly one word (with three words, the three pairs; with two,
     * each word alone), planted with the row's true label so that no part of the trigger fires.
     */
    public List<Trigger> negatives() {
        if (words.size() == 2) {
            return parts();
        }
        List<Trigger> out = new java.util.ArrayList<>();
        for (int i = 0; i < words.size(); i++) {
            List<String> rest = new java.util.ArrayList<>(words);
            rest.remove(i);
            out.add(new CompositeTrigger(rest));
        }
        return out;
    }

    @Override
    public String describe() {
        return "all of " + String.join(", ", words);
    }
}
