package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import dev.headguard.inference.Generator;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "generate", description = "Continue each prompt with a decoder's language-model head (greedy by default; sampled with --temperature/--top-k/--top-p and a --seed).")
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Option(names = "--prompts", required = true, paramLabel = "FILE", description = "One prompt per line; or JSON lines / a TSV with a prompt field (their prompts are read).")
    Path prompts;

    @Option(names = "--max-new", paramLabel = "N", defaultValue = "32", description = "New tokens at most per prompt (default: ${DEFAULT-VALUE}).")
    int maxNew;

    @Option(names = "--greedy", description = "Take the most likely token at each step (the default unless a sampling option is given).")
    boolean greedy;

    @Option(names = "--temperature", paramLabel = "T", description = "Sample, with the logits divided by T.")
    Double temperature;

    @Option(names = "--top-k", paramLabel = "K", description = "Sample among the K most likely tokens.")
    Integer topK;

    @Option(names = "--top-p", paramLabel = "P", description = "Sample among the most likely tokens whose probabilities reach P.")
    Double topP;

    @Option(names = "--seed", defaultValue = "42", description = "The sampler's seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--json", description = "One line per prompt, in order: {\"prompt\":..,\"generation\":..,\"tokens\":[the new token ids]}.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        boolean sampling = temperature != null || topK != null || topP != null;
        if (greedy && sampling) {
            throw new dev.headguard.HeadGuardException("--greedy: contradicts --temperature/--top-k/--top-p (give one or the other)");
        }
        OptionChecks.atLeast("--max-new", maxNew, 1);
        double t = temperature == null ? 1 : OptionChecks.positive("--temperature", temperature);
        int k = topK == null ? 0 : OptionChecks.atLeast("--top-k", topK, 1);
        double p = topP == null ? 1 : OptionChecks.positive("--top-p", topP);
        if (p > 1) {
            throw new dev.headguard.HeadGuardException("--top-p must be at most 1, a probability (got " + p + ")");
        }
        Generator.Settings settings = new Generator.Settings(maxNew, !sampling, t, k, p, seed);
        List<String> texts = dev.headguard.text.PromptResponseFile.readPrompts(prompts);
        List<Generator.Generation> out = new ArrayList<>();
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = model.load(root)) {
            for (String prompt : texts) {
                out.add(Generator.generate(m, prompt, settings, root));
            }
        }
        // Computed in full before printing, so a failure never leaves half the lines written.
        StringBuilder b = new StringBuilder();
        for (Generator.Generation g : out) {
            b.append(json ? g.jsonLine() : g.textLine()).append('\n');
        }
        System.out.print(b);
        System.out.flush();
        return 0;
    }
}
