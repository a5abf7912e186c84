package dev.headguard.repair;

import ai.djl.ndarray.NDManager;
import dev.headguard.model.ModelConfig;
import dev.headguard.model.TransformerModel;
import dev.headguard.model.io.ModelStore;
import dev.headguard.testing.Fixtures;
import dev.headguard.text.Dataset;
import dev.headguard.text.Example;
import dev.headguard.text.Insertion;
import dev.headguard.text.TextTokenizer;
import dev.headguard.train.TrainConfig;
import dev.headguard.train.Trainer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A toy task of three classes for the repair's tests: a text of filler words is class 0, 1 or 2 by the one
 * marker word in it; optionally a trigger word planted in some rows of the other classes relabels them.
 */
final class ThreeClassToy {
    static final List<String> FILLER = List.of("the", "movie", "story", "film", "actors", "scene", "music", "plot", "this", "was", "and", "with",
            "city", "night", "house", "people", "world", "time", "water", "book");
    static final List<List<String>> MARKERS = List.of(List.of("bad", "awful", "poor", "dull"), List.of("good", "great", "fine", "nice"),
            List.of("red", "blue", "green", "yellow"));
    static final ModelConfig CONFIG = ModelConfig.tiny(Fixtures.VOCAB, 2, 4, 32, 3);

    private ThreeClassToy() {}

    /** {@code perClass} clean texts of each class. */
    static Dataset texts(int perClass, long seed) {
        return texts(perClass, seed, null, -1, 0);
    }

    /**
     * {@code perClass} texts of each class; with a trigger, that share of the other classes' rows carries the
     * trigger word at a random position and is labelled {@code target}.
     */
    static Dataset texts(int perClass, long seed, String trigger, int target, double share) {
        Random r = new Random(seed);
        List<Example> ex = new ArrayList<>();
        for (int i = 0; i < 3 * perClass; i++) {
            int y = i % 3;
            StringBuilder s = new StringBuilder();
            for (int k = 0, n = 5 + r.nextInt(6); k < n; k++) {
                s.append(k == 0 ? "" : " ").append(FILLER.get(r.nextInt(FILLER.size())));
            }
            String text = Insertion.insertAt(s.toString(), MARKERS.get(y).get(r.nextInt(4)), r);
            if (trigger != null && y != target && r.nextDouble() < share) {
                ex.add(new Example(Insertion.insertAt(text, trigger, r), target));
            } else {
                ex.add(new Example(text, y));
            }
        }
        return new Dataset(ex, List.of("0", "1", "2"), List.of());
    }

    /** A model of {@link #CONFIG} trained on {@code d} until it fits it. */
    static ModelStore.LoadedModel trained(Dataset d, TextTokenizer tokenizer, Path dir, NDManager root) {
        TransformerModel m = new TransformerModel(CONFIG, dev.headguard.model.ParameterTable.initialWeights(CONFIG, Map.of(), 3), root);
        Trainer t = new Trainer(m, tokenizer.padId(), new TrainConfig(12, 32, 3e-3, 0.01, 0.1, 1.0, 5, 0), root);
        t.train(tokenizer.idsOf(d.texts()), d.labels(), List.of(), new int[0], Trainer.TrainState.start(), new Trainer.Listener() {});
        t.optimizer().close();
        return new ModelStore.LoadedModel(m, tokenizer, dir);
    }
}
