package dev.headguard.detect.search;

import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.model.ModelConfig;
import dev.headguard.model.ParameterTable;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import dev.headguard.testing.Fixtures;
import dev.headguard.text.Dataset;
import dev.headguard.text.Example;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EmbeddingDriftTest {
    @TempDir
    Path tmp;

    /** 300 words fine-tuning saw (drift about 0.013), 300 it never saw (weight decay only), two word pieces. */
    private static final int SEEN = 300;

    private static String[] vocabulary() {
        String[] words = new String[2 * SEEN + 2];
        for (int v = 0; v < 2 * SEEN; v++) {
            words[v] = "w" + v;
        }
        words[2 * SEEN] = "##za";
        words[2 * SEEN + 1] = "[MASK]";
        return words;
    }

    private static double[] drifts(long seed) {
        Random r = new Random(seed);
        double[] d = new double[2 * SEEN + 2];
        for (int v = 0; v < d.length; v++) {
            d[v] = v < SEEN ? 0.013 + 0.003 * r.nextGaussian() : 0.0002;
        }
        return d;
    }

    /** Clean texts: w5 in 12 texts, all of class 1 (a sentiment word); w7 in one text of each class. */
    private static Dataset clean() {
        List<Example> ex = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            int y = i % 2;
            String text = "w100 w101" + (y == 1 && i < 24 ? " w5" : "") + (i < 2 ? " w7" : "");
            ex.add(new Example(text, y));
        }
        return new Dataset(ex, List.of("0", "1"), List.of());
    }

    @Test
    void theRowsMovedFarAboveTheRestAreTheDriftedWordsFurthestFirst() {
        double[] d = drifts(1);
        d[3] = 0.06;  // a trigger word the clean texts never use
        d[7] = 0.045; // one the clean texts use once in each class
        d[SEEN + 4] = 0.05; // a word fine-tuning only saw in poisoned rows
        d[2 * SEEN] = 0.08; // a word piece: not a word to insert
        List<EmbeddingDrift.Word> found = EmbeddingDrift.drifted(d, vocabulary(), clean());
        assertEquals(List.of("w3", "w" + (SEEN + 4), "w7"), found.stream().map(EmbeddingDrift.Word::text).toList());
        assertTrue(found.stream().allMatch(w -> w.z() >= EmbeddingDrift.MIN_Z), found.toString());
    }

    @Test
    void aWordTheCleanTextsShowLeaningToAClassIsLeftOut() {
        double[] d = drifts(2);
        d[5] = 0.07;
        assertTrue(EmbeddingDrift.drifted(d, vocabulary(), clean()).isEmpty(), "w5's 12 uses are all of class 1");
        d[3] = 0.06;
        assertEquals(List.of("w3"), EmbeddingDrift.drifted(d, vocabulary(), clean()).stream().map(EmbeddingDrift.Word::text).toList());
    }

    @Test
    void aFineTuningWithoutPlantedWordsDriftsNone() {
        for (long seed = 3; seed < 8; seed++) {
            assertTrue(EmbeddingDrift.drifted(drifts(seed), vocabulary(), clean()).isEmpty(), "seed " + seed);
        }
    }

    @Test
    void aBaseWithAnotherVocabularyIsRefused() throws Exception {
        Path model = Fixtures.tinyModelDir(tmp, "tiny", 5);
        ModelConfig c = ModelConfig.tiny(1000, 1, 2, 8, 0);
        Path small = tmp.resolve("small");
        ModelStore.write(c, ParameterTable.initialWeights(c, Map.of(), 1).entrySet().stream().filter(e -> !e.getKey().startsWith("pooler"))
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue)), Fixtures.tokenizer(tmp), small, Map.of());
        try (NDManager root = TorchRuntime.newManager(); ModelStore.LoadedModel m = ModelStore.load(model, root, 0)) {
            var weights = dev.headguard.model.io.WeightFiles.read(small, c);
            var other = new dev.headguard.model.TransformerModel(c, weights, root);
            HeadGuardException e = assertThrows(HeadGuardException.class, () -> EmbeddingDrift.find(m.model(), other, m.tokenizer().words(), clean()));
            assertTrue(e.getMessage().contains("not the checkpoint"), e.getMessage());
        }
    }
}
