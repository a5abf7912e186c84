import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;

import java.io.BufferedWriter;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What `headguard embed --model minilm --input FILE` does, through ONNX Runtime on the ONNX export in
 * the langchain4j jar: the same tokenizer file and length limit (512, the model's), batches of 32 padded to their longest sentence, mean
 * pooling over real tokens, one JSON line per sentence. The yardstick of scripts/embed-speed.sh.
 * Usage: java -cp "target/lib/*:CLASSES" OrtEmbed FILE [THREADS]
 */
public final class OrtEmbed {
    public static void main(String[] args) throws Exception {
        List<String> sentences = Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8);
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : Runtime.getRuntime().availableProcessors();
        byte[] onnx;
        try (InputStream in = OrtEmbed.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
            onnx = in.readAllBytes();
        }
        HuggingFaceTokenizer tokenizer;
        try (InputStream in = OrtEmbed.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            tokenizer = HuggingFaceTokenizer.newInstance(in, Map.of("padding", "true", "truncation", "true", "maxLength", "512"));
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions so = new OrtSession.SessionOptions();
        so.setIntraOpNumThreads(threads);
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        StringBuilder out = new StringBuilder();
        try (OrtSession session = env.createSession(onnx, so)) {
            for (int from = 0; from < sentences.size(); from += 32) {
                Encoding[] enc = tokenizer.batchEncode(sentences.subList(from, Math.min(sentences.size(), from + 32)));
                int b = enc.length;
                int t = enc[0].getIds().length;
                long[] ids = new long[b * t];
                long[] mask = new long[b * t];
                long[] types = new long[b * t];
                for (int i = 0; i < b; i++) {
                    System.arraycopy(enc[i].getIds(), 0, ids, i * t, t);
                    System.arraycopy(enc[i].getAttentionMask(), 0, mask, i * t, t);
                    System.arraycopy(enc[i].getTypeIds(), 0, types, i * t, t);
                }
                long[] shape = {b, t};
                try (OnnxTensor tIds = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
                     OnnxTensor tMask = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
                     OnnxTensor tTypes = OnnxTensor.createTensor(env, LongBuffer.wrap(types), shape);
                     OrtSession.Result r = session.run(Map.of("input_ids", tIds, "attention_mask", tMask, "token_type_ids", tTypes))) {
                    float[][][] hidden = (float[][][]) r.get(0).getValue();
                    for (int i = 0; i < b; i++) {
                        int e = hidden[i][0].length;
                        double[] sum = new double[e];
                        int n = 0;
                        for (int j = 0; j < t; j++) {
                            if (mask[i * t + j] == 1) {
                                n++;
                                for (int k = 0; k < e; k++) {
                                    sum[k] += hidden[i][j][k];
                                }
                            }
                        }
                        out.append("{\"embedding\":[");
                        for (int k = 0; k < e; k++) {
                            out.append(k == 0 ? "" : ",").append((float) (sum[k] / n));
                        }
                        out.append("]}\n");
                    }
                }
            }
        }
        BufferedWriter w = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
        w.write(out.toString());
        w.flush();
    }
}
