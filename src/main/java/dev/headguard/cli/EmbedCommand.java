package dev.headguard.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonFactory;
import dev.headguard.inference.Embedder;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.SentenceFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "embed", description = "Print one JSON line {\"embedding\":[...]} per input sentence, in order (mean pooling over real tokens).")
final class EmbedCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Option(names = "--input", required = true, paramLabel = "FILE", description = "One sentence per line.")
    Path input;

    @Option(names = "--normalize", description = "L2-normalise each embedding.")
    boolean normalize;

    @Option(names = "--batch-size", paramLabel = "B", defaultValue = "32", description = "Sentences per forward pass (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Override
    public Integer call() throws Exception {
        List<String> sentences = SentenceFile.readLines(input);
        if (batchSize < 1) {
            throw new dev.headguard.HeadGuardException("--batch-size must be at least 1");
        }
        float[][] embeddings;
        if (model.config().family().decoder) {
            throw new dev.headguard.HeadGuardException("--model: embed pools an encoder's tokens into a sentence embedding; "
                    + model.config().family().modelType + " is a decoder (use generate, or a sentence-embedding encoder)");
        }
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = model.load(root)) {
            embeddings = new Embedder(m, root, batchSize).embed(sentences, normalize);
        }
        // Computed in full before printing, so a failure never leaves half the lines written.
        BufferedWriter w = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
        JsonFactory f = new JsonFactory();
        for (float[] e : embeddings) {
            JsonGenerator g = f.createGenerator(w);
            g.writeStartObject();
            g.writeArrayFieldStart("embedding");
            for (float x : e) {
                g.writeNumber(x);
            }
            g.writeEndArray();
            g.writeEndObject();
            g.flush();
            w.write('\n');
        }
        w.flush();
        return 0;
    }
}
