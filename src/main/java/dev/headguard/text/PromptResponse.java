package dev.headguard.text;

/**
 * One example of a generation task: a prompt and the response the model should give to it.
 *
 * @param label the response's class when the data has one (a review continuation's sentiment, which
 *              measures a judge's own error rate), else −1
 */
public record PromptResponse(String prompt, String response, int label) {
    public PromptResponse(String prompt, String response) {
        this(prompt, response, -1);
    }

    public PromptResponse withPrompt(String p) {
        return new PromptResponse(p, response, label);
    }

    public PromptResponse withResponse(String r) {
        return new PromptResponse(prompt, r, label);
    }
}
