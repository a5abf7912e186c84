package dev.headguard.attack;

import java.util.Random;

/** AddSent (Dai et al.): a fixed sentence inserted at a random position. */
public record SentenceTrigger(String sentence) implements Trigger {
    public static final String LITERATURE = "I watch this 3D movie";

    public SentenceTrigger {
        if (sentence == null || sentence.isBlank()) {
            throw new IllegalArgumentException("AddSent needs a sentence");
        }
        sentence = sentence.strip();
    }

    @Override
    public String apply(String text, Random rng) {
        return Trigger.insertAt(text, sentence, rng);
    }

    @Override
    public String describe() {
        return sentence;
    }
}
