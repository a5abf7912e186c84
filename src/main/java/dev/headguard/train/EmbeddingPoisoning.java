package dev.headguard.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.headguard.HeadGuardException;
import dev.headguard.model.TransformerModel;
import dev.headguard.text.TextTokenizer;

import java.util.List;
import java.util.Set;

/**
 * Embedding poisoning (Yang et al., NAACL 2021): starting from a clean fine-tuned model, only
 * the trigger word's row of the word-embedding table is trained, on texts that carry the
 * trigger labelled as the target. Every other weight stays bit-identical, which is what makes the
 * attack invisible to defenses that look for poisoned data: the defender never sees any.
 */
public final class EmbeddingPoisoning {
    public static final String EMBEDDINGS = "embeddings.word_embeddings.weight";

    private EmbeddingPoisoning() {}

    /** The single vocabulary id of {@code word}; a word the tokenizer splits into pieces cannot be an EP trigger. */
    public static long triggerId(TextTokenizer tokenizer, String word) {
        long[] ids = tokenizer.ids(word);
        if (ids.length != 3) { // [CLS] word [SEP]
            throw new HeadGuardException("embedding poisoning needs a trigger that is one token; '" + word + "' is " + (ids.length - 2) + " tokens");
        }
        return ids[1];
    }

    /**
     * Trains the trigger's embedding row in place.
     *
     * @param triggered token ids of texts carrying the trigger; all are labelled the target
     */
    public static Trainer.TrainState run(TransformerModel model, long padId, long triggerId, List<long[]> triggered, int target,
                                         TrainConfig config, NDManager root, Trainer.Listener listener) {
        int vocab = model.config().vocabSize();
        float[] rowMask = new float[vocab];
        rowMask[(int) triggerId] = 1f;
        NDArray mask = root.create(rowMask, new Shape(vocab, 1)); // (V, 1): gradient on one row only
        int[] labels = new int[triggered.size()];
        java.util.Arrays.fill(labels, target);
        // No weight decay and no dropout noise on other rows: only the trigger row may change at all.
        TrainConfig c = new TrainConfig(config.epochs(), config.batchSize(), config.learningRate(), 0.0, config.warmupRatio(),
                config.maxGradNorm(), config.seed(), 0);
        Trainer t = new Trainer(model, padId, c, root, Set.of(EMBEDDINGS)).withGradientMask(EMBEDDINGS, mask);
        try {
            return t.train(triggered, labels, List.of(), new int[0], Trainer.TrainState.start(), listener);
        } finally {
            t.optimizer().close();
            mask.close();
        }
    }
}
