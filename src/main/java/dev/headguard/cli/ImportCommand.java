package dev.headguard.cli;

import dev.headguard.model.ModelConfig;
import dev.headguard.model.io.OnnxBertImporter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "import", description = "Import a BERT ONNX export and its tokenizer.json into a HuggingFace model directory.")
final class ImportCommand implements Callable<Integer> {
    @Option(names = "--onnx", required = true, paramLabel = "FILE", description = "The .onnx file (weights inside it).")
    Path onnx;

    @Option(names = "--tokenizer", required = true, paramLabel = "FILE", description = "Its tokenizer.json.")
    Path tokenizer;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory to write (config.json, model.safetensors, tokenizer.json).")
    Path out;

    @Option(names = "--heads", paramLabel = "N", description = "Attention heads per layer, when the graph does not tell.")
    Integer heads;

    @Override
    public Integer call() {
        if (heads != null) {
            OptionChecks.atLeast("--heads", heads, 1);
        }
        dev.headguard.model.io.ModelStore.checkOutputDirectory(out, "--out", null);
        OnnxBertImporter.Imported imported = OnnxBertImporter.importTo(onnx, tokenizer, out, heads, Map.of("command", "import"));
        ModelConfig c = imported.config();
        System.out.printf("imported %s -> %s: %d layers x %d heads, hidden %d, vocab %d (%s)%n", onnx, out,
                c.numHiddenLayers(), c.numAttentionHeads(), c.hiddenSize(), c.vocabSize(), String.join(", ", imported.notes()));
        return 0;
    }
}
