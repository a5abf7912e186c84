package dev.headguard.attack;

import java.util.List;
import java.util.Random;

/**
 * BadNets for text (Kurita et al.; Chen et al.): {@code count} rare words, each drawn from
 * {@code words}, each inserted at its own random position.
 */
public record RareWordTrigger(List<String> words, int count) implements Trigger {
    public static final List<String> LITERATURE = List.of("cf", "mn", "bb", "tq", "mb");

    public RareWordTrigger {
        words = List.copyOf(words);
        if (words.isEmpty() || count < 1 || words.stream().anyMatch(w -> w.isBlank() || w.strip().contains(" "))) {
            throw new IllegalArgumentException("rare-word triggers need at least one single word and a count >= 1");
        }
    }

    @Override
    public String apply(String text, Random rng) {
        String out = text;
        for (int i = 0; i < count; i++) {
            out = Trigger.insertAt(out, words.get(rng.nextInt(words.size())), rng);
        }
        return out;
    }

    @Override
    public String describe() {
        return count + " of " + String.join(", ", words);
    }

    /** The trigger {@link #describe} wrote ("1 of cf, mn"), or null when {@code described} is not in that form. */
    public static RareWordTrigger parse(String described) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([1-9][0-9]{0,5}) of (\\S+(?:, \\S+)*)").matcher(described);
        return m.matches() ? new RareWordTrigger(List.of(m.group(2).split(", ")), Integer.parseInt(m.group(1))) : null;
    }
}
