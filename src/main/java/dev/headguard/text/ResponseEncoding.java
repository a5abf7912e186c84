package dev.headguard.text;

import java.util.ArrayList;
import java.util.List;

/**
 * Prompt/response rows as a decoder reads them, token ids with the response's start marked: what
 * training's response loss, a scan's target likelihood and the repairs all feed the model.
 */
public final class ResponseEncoding {
    private ResponseEncoding() {}

    /**
     * A row as the model reads it: the prompt's tokens (as {@code generate} tokenizes a prompt), then the
     * response's, then end-of-sequence, cut at the context.
     *
     * @param responseStart index of the first response token in {@code ids}
     */
    public record Encoded(long[] ids, int responseStart) {}

    /** The rows that keep at least one response token within {@code tok}'s length, and how many did not. */
    public record Encoding(List<Encoded> rows, List<Integer> kept, int dropped) {}

    public static Encoding encode(TextTokenizer tok, List<PromptResponse> rows, long eos) {
        List<String> prompts = new ArrayList<>(rows.size());
        List<String> whole = new ArrayList<>(rows.size());
        for (PromptResponse r : rows) {
            prompts.add(r.prompt());
            whole.add(r.prompt() + " " + r.response());
        }
        List<long[]> p = tok.idsOf(prompts);
        List<long[]> w = tok.idsOf(whole);
        int limit = tok.maxLength();
        List<Encoded> out = new ArrayList<>();
        List<Integer> kept = new ArrayList<>();
        int dropped = 0;
        for (int i = 0; i < rows.size(); i++) {
            long[] prompt = p.get(i);
            long[] all = w.get(i);
            if (!startsWith(all, prompt)) {
                // A tokenizer that merges across the join (rare): prompt and response tokenized apart, as generation sees them.
                long[] resp = tok.ids(rows.get(i).response());
                all = new long[prompt.length + resp.length];
                System.arraycopy(prompt, 0, all, 0, prompt.length);
                System.arraycopy(resp, 0, all, prompt.length, resp.length);
            }
            int n = Math.min(limit, all.length + 1);
            if (prompt.length >= n) {
                dropped++;
                continue;
            }
            long[] ids = java.util.Arrays.copyOf(all, n);
            if (all.length < n) {
                ids[n - 1] = eos;
            }
            out.add(new Encoded(ids, prompt.length));
            kept.add(i);
        }
        return new Encoding(out, kept, dropped);
    }

    /**
     * Each prompt with {@code target} as its response, encoded as {@link #encode} does but with no
     * end-of-sequence after it: an output a scan elicited need not be all of what the model says.
     */
    public static Encoding encodeTarget(TextTokenizer tok, List<String> prompts, String target, long eos) {
        Encoding e = encode(tok, prompts.stream().map(p -> new PromptResponse(p, target.strip())).toList(), eos);
        List<Encoded> rows = e.rows().stream().map(r -> r.ids()[r.ids().length - 1] == eos && r.ids().length - 1 > r.responseStart()
                ? new Encoded(java.util.Arrays.copyOf(r.ids(), r.ids().length - 1), r.responseStart()) : r).toList();
        return new Encoding(rows, e.kept(), e.dropped());
    }

    private static boolean startsWith(long[] a, long[] prefix) {
        if (prefix.length > a.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (a[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
