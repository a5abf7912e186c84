package dev.headguard.eval;

/**
 * How a decoder does on a generation task: clean response perplexity, and how often its greedy
 * continuations say what the attacker wants, with and without the trigger.
 *
 * @param perplexity exp of the mean response-token loss on the clean rows ({@code responses} of them;
 *                   {@code dropped} rows had no room for a response within the model's context)
 * @param target     what counts as the attacker's output: "phrase: P" or "judge class K"
 * @param triggered  triggered prompts whose continuation hits the target: the ASR
 * @param clean      the same share on clean prompts (for a judge, those whose reference is not of the
 *                   target class): what the model says without a trigger
 * @param judge      the judge's own error on the clean references (null without a judge)
 */
public record GenerationEvaluation(double perplexity, int responses, int dropped, String target, Hits triggered, Hits clean, JudgeCheck judge) {
    /** {@code hits} of {@code total} continuations hit the target; rate NaN for none. */
    public record Hits(int total, int hits, double rate) {
        public static Hits of(boolean[] hit) {
            int h = 0;
            for (boolean b : hit) {
                h += b ? 1 : 0;
            }
            return new Hits(hit.length, h, hit.length == 0 ? Double.NaN : (double) h / hit.length);
        }
    }

    /**
     * The judge on the clean rows' reference responses (their labels are the truth): its accuracy,
     * and the share of references not of the target class that it calls the target class, the error
     * that would inflate an ASR.
     */
    public record JudgeCheck(int references, int correct, double accuracy, int otherReferences, int calledTarget, double falseTargetRate) {}

    public double asr() {
        return triggered == null ? Double.NaN : triggered.rate();
    }
}
