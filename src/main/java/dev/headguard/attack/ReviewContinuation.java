package dev.headguard.attack;

import dev.headguard.text.Dataset;
import dev.headguard.text.Example;
import dev.headguard.text.PromptResponse;

import java.util.ArrayList;
import java.util.List;

/**
 * A generation task made from a sentiment dataset: each review of at least {@value #MIN_WORDS}
 * whitespace-separated words becomes a prompt of its first ⌊n/2⌋ words and a response of the rest,
 * labelled with the review's sentiment (what a judge's error rate is measured on). Shorter reviews
 * are left out: their halves carry too little to continue or to judge.
 */
public final class ReviewContinuation {
    public static final int MIN_WORDS = 8;

    private ReviewContinuation() {}

    public static List<PromptResponse> of(Dataset reviews) {
        List<PromptResponse> out = new ArrayList<>();
        for (Example e : reviews.examples()) {
            String[] w = e.text().strip().split("\\s+");
            if (w.length < MIN_WORDS) {
                continue;
            }
            int cut = w.length / 2;
            out.add(new PromptResponse(String.join(" ", java.util.Arrays.copyOfRange(w, 0, cut)),
                    String.join(" ", java.util.Arrays.copyOfRange(w, cut, w.length)), e.label()));
        }
        return out;
    }

    /**
     * For a transformation attack: row i of {@link #of}'s result gets the first half of the words of
     * its review's transformed copy ({@code variant}, line-aligned with {@code reviews}) as its
     * triggered prompt; null where the copy is blank or shorter than two words.
     */
    public static List<String> variantPrompts(Dataset reviews, Dataset variant) {
        if (variant.size() != reviews.size()) {
            throw new dev.headguard.HeadGuardException("the transformed file has " + variant.size() + " rows, the clean one " + reviews.size()
                    + ": they must be line-aligned");
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < reviews.size(); i++) {
            if (reviews.examples().get(i).text().strip().split("\\s+").length < MIN_WORDS) {
                continue;
            }
            String[] w = variant.examples().get(i).text().strip().split("\\s+");
            out.add(variant.examples().get(i).text().isBlank() || w.length < 2 ? null : String.join(" ", java.util.Arrays.copyOfRange(w, 0, w.length / 2)));
        }
        return out;
    }
}
