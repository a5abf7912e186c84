package dev.headguard.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import dev.headguard.testing.HfOracle;
import dev.headguard.text.PromptResponse;
import dev.headguard.text.ResponseEncoding;
import dev.headguard.text.TokenBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The response-only loss: what it encodes, and the same number transformers computes with the prompt labelled −100. */
class ResponseLossTest {
    @TempDir
    Path dir;

    static final List<PromptResponse> ROWS = List.of(
            new PromptResponse("a gripping , funny", "movie that never lets go ."),
            new PromptResponse("the acting is", "wooden and the plot is thin"),
            new PromptResponse("an unapologetic mess", "."),
            new PromptResponse("it 's a charming and often affecting journey", "that rewards patience"));

    /** Prompt tokens as generate sees them, then the response, then end-of-sequence; cut at the length; a prompt that fills it is left out. */
    @Test
    void rowsAreThePromptThenTheResponseThenTheEnd() throws Exception {
        Path fixture = HfOracle.fixtures().resolve("gpt2-lm");
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = ModelStore.load(fixture, root, 0)) {
            long eos = m.model().config().decoder().eosTokenId();
            ResponseEncoding.Encoding e = ResponseEncoding.encode(m.tokenizer(), ROWS, eos);
            assertEquals(ROWS.size(), e.rows().size());
            for (int i = 0; i < ROWS.size(); i++) {
                long[] prompt = m.tokenizer().ids(ROWS.get(i).prompt());
                ResponseEncoding.Encoded r = e.rows().get(i);
                assertEquals(prompt.length, r.responseStart());
                assertArrayEquals(prompt, Arrays.copyOf(r.ids(), prompt.length));
                assertEquals(eos, r.ids()[r.ids().length - 1], "the response ends with end-of-sequence");
                assertTrue(r.ids().length > prompt.length + 1, "the response has tokens of its own");
            }
        }
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = ModelStore.load(fixture, root, 6)) {
            ResponseEncoding.Encoding e = ResponseEncoding.encode(m.tokenizer(), ROWS, 2);
            List<Integer> fit = new ArrayList<>();
            for (int i = 0; i < ROWS.size(); i++) {
                if (m.tokenizer().ids(ROWS.get(i).prompt()).length < 6) {
                    fit.add(i);
                }
            }
            assertTrue(!fit.isEmpty() && fit.size() < ROWS.size(), "the rows test both cases: " + fit);
            assertEquals(fit, e.kept(), "rows whose prompt leaves room for a response token");
            assertEquals(ROWS.size() - fit.size(), e.dropped());
            for (ResponseEncoding.Encoded r : e.rows()) {
                assertTrue(r.ids().length <= 6 && r.responseStart() < r.ids().length);
            }
        }
    }

    /** A padded batch of rows of different lengths gives transformers' response loss: Σ over rows of mean × tokens, over all tokens. */
    @ParameterizedTest
    @ValueSource(strings = {"gpt2-lm", "llama-lm"})
    void theLossIsTransformersResponseLoss(String name) throws Exception {
        Path fixture = HfOracle.fixtures().resolve(name);
        List<ResponseEncoding.Encoded> rows;
        float ours;
        double oursPerplexity;
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = ModelStore.load(fixture, root, 0)) {
            rows = ResponseEncoding.encode(m.tokenizer(), ROWS, m.model().config().decoder().eosTokenId()).rows();
            TokenBatch batch = TokenBatch.of(rows.stream().map(ResponseEncoding.Encoded::ids).toList(), m.tokenizer().padId());
            try (NDManager step = root.newSubManager()) {
                TokenBatch.Arrays in = batch.toArrays(step);
                NDArray h = m.model().forward(in.inputIds(), in.attentionMask(), in.tokenTypeIds(), ForwardOptions.INFERENCE).lastHiddenState();
                ours = ResponseLoss.mean(m.model(), batch, rows.stream().mapToInt(ResponseEncoding.Encoded::responseStart).toArray(), h, step).getFloat();
            }
            oursPerplexity = ResponseLoss.perplexity(m.model(), rows, m.tokenizer().padId(), root);
        }
        List<Map<String, Object>> json = new ArrayList<>();
        for (ResponseEncoding.Encoded r : rows) {
            json.add(Map.of("ids", r.ids(), "start", r.responseStart()));
        }
        Path in = dir.resolve("rows.json");
        new ObjectMapper().writeValue(in.toFile(), json);
        Path out = dir.resolve("loss.json");
        HfOracle.run(dir.resolve("hf.log"), "hf-response-loss.py", fixture.toString(), in.toString(), out.toString());
        double sum = 0;
        int n = 0;
        for (JsonNode r : new ObjectMapper().readTree(Files.readString(out))) {
            sum += r.get("loss").asDouble() * r.get("tokens").asInt();
            n += r.get("tokens").asInt();
        }
        assertEquals(sum / n, ours, 1e-4, name);
        assertEquals(Math.exp(sum / n), oursPerplexity, 1e-3 * oursPerplexity, name);
    }
}
