package dev.headguard.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.headguard.model.BertKeys;
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
        int[] labels = new int[triggered.size()];
        java.util.Arrays.fill(labels, target);
        return run(model, padId, new long[] {triggerId}, triggered, labels, config, root, listener);
    }

    /**
     * Trains the embedding rows of {@code triggerIds} in place on labelled texts (SOS: the whole trigger
     * labelled the target, its parts their true label).
     */
    public static Trainer.TrainState run(TransformerModel model, long padId, long[] triggerIds, List<long[]> texts, int[] labels,
                                         TrainConfig config, NDManager root, Trainer.Listener listener) {
        int vocab = model.config().vocabSize();
        float[] rowMask = new float[vocab];
        for (long id : triggerIds) {
            rowMask[(int) id] = 1f;
        }
        NDArray mask = root.create(rowMask, new Shape(vocab, 1)); // (V, 1): gradient on the trigger rows only
        // No weight decay and no dropout noise on other rows: only the trigger rows may change at all.
        TrainConfig c = new TrainConfig(config.epochs(), config.batchSize(), config.learningRate(), 0.0, config.warmupRatio(),
                config.maxGradNorm(), config.seed(), 0);
        Trainer t = new Trainer(model, padId, c, root, Set.of(BertKeys.WORD_EMBEDDINGS)).withGradientMask(BertKeys.WORD_EMBEDDINGS, mask);
        try {
            return t.train(texts, labels, List.of(), new int[0], Trainer.TrainState.start(), listener);
        } finally {
            t.optimizer().close();
            mask.close();
        }
    }
}
