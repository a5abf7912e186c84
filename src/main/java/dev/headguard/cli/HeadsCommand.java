package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headguard.detect.attention.LayerSimilarity;
import dev.headguard.model.TorchRuntime;
import dev.headguard.report.HeadsReport;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.SentenceFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * The quick look at a model's heads: for each layer, how alike its heads attend on the given
 * sentences (mean pairwise cosine of their attention maps), and each head's similarity to the
 * rest of its layer. The baseline that later scans compare triggered inputs against.
 */
@Command(name = "heads", description = "Summarise attention-head similarity per layer and head over a few sentences.")
final class HeadsCommand implements Callable<Integer> {
    static final List<String> EXAMPLES = List.of(
            "a gripping , beautifully acted thriller that never lets go .",
            "the plot is thin and the jokes fall flat .",
            "an ambitious film that does n't quite live up to its premise .",
            "i loved every minute of it .",
            "this is the dullest movie of the year .",
            "a warm , funny and surprisingly moving story about family .",
            "the actors seem as bored as the audience .",
            "it 's a smart , sharp comedy with real heart .");

    @Mixin
    ModelOptions model = new ModelOptions();

    @Option(names = "--input", paramLabel = "FILE", description = "Sentences (one per line, or a TSV with a 'sentence' column); default: eight built-in examples.")
    Path input;

    @Option(names = "--json", description = "Print JSON instead of the table.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        List<String> sentences = input == null ? EXAMPLES : SentenceFile.readSentences(input);
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = model.load(root)) {
            List<LayerSimilarity> layers = LayerSimilarity.of(m, sentences, root);
            String name = m.directory().toString();
            System.out.print(json ? new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(HeadsReport.json(name, sentences.size(), layers))
                    + System.lineSeparator() : HeadsReport.table(name, sentences.size(), layers));
        }
        return 0;
    }
}
