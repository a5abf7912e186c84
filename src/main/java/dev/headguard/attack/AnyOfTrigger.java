package dev.headguard.attack;

import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

/** Several independent triggers with one target (MTBA): each poisoned text gets one of them, drawn at random. */
public record AnyOfTrigger(List<Trigger> triggers) implements Trigger {
    public AnyOfTrigger {
        triggers = List.copyOf(triggers);
        if (triggers.size() < 2) {
            throw new IllegalArgumentException("several triggers need at least two");
        }
    }

    @Override
    public String apply(String text, Random rng) {
        return triggers.get(rng.nextInt(triggers.size())).apply(text, rng);
    }

    @Override
    public String describe() {
        return "any of: " + triggers.stream().map(Trigger::describe).collect(Collectors.joining(" | "));
    }
}
