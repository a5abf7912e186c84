package dev.headguard.train;

import ai.djl.ndarray.NDManager;
import dev.headguard.HeadGuardException;
import dev.headguard.model.HostTensor;
import dev.headguard.model.ModelConfig;
import dev.headguard.model.ParameterTable;
import dev.headguard.model.TransformerModel;
import dev.headguard.model.io.ModelStore;
import dev.headguard.model.io.WeightFiles;
import dev.headguard.text.PromptResponse;
import dev.headguard.text.ResponseEncoding;
import dev.headguard.text.TextTokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fine-tunes a decoder on prompt/response pairs with the loss on the response only
 * ({@link ResponseLoss}), and writes the epoch with the lowest dev response perplexity (the last
 * one without a dev set) with its provenance; the Java API behind {@code train --task generation}.
 */
public final class GenerationTuning {
    private GenerationTuning() {}

    /** Training progress, and each epoch's dev response perplexity. */
    public interface Listener extends Trainer.Listener {
        default void onDevPerplexity(int epoch, double perplexity) {}
    }

    /**
     * @param maxLength tokens per row at most (prompt, response and end-of-sequence); longer rows are cut,
     *                  a row whose prompt alone fills it is left out and counted
     */
    public record Request(Path baseModel, List<PromptResponse> train, List<PromptResponse> dev, Path out, TrainConfig config, int maxLength,
                          boolean resume, Map<String, Object> extraProvenance) {
        public Request {
            train = List.copyOf(train);
            dev = dev == null ? List.of() : List.copyOf(dev);
            extraProvenance = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(extraProvenance));
        }
    }

    /**
     * @param devPerplexityBefore the base model's, and {@code devPerplexity} each epoch's (NaN without dev data);
     * @param dropped             rows whose prompt filled the context
     */
    public record Result(Trainer.TrainState state, List<Trainer.Epoch> epochs, double devPerplexityBefore, List<Double> devPerplexity, int bestEpoch,
                         int dropped, Path out) {}

    /** Refuses a model that cannot be trained on generation, naming it, before any work. */
    public static ModelConfig requireLanguageModel(Path dir) {
        ModelConfig c = ModelStore.readConfig(dir);
        if (!c.family().decoder || !c.languageModel()) {
            throw new HeadGuardException(dir + ": a generation task needs a decoder with a language-model head (gpt2, llama, mistral, qwen2), not "
                    + c.family().architecture(c.hasClassifier(), c.languageModel()));
        }
        return c;
    }

    public static Result run(Request r, NDManager root, Listener progress) {
        ModelConfig config = requireLanguageModel(r.baseModel());
        Map<String, HostTensor> init = ParameterTable.initialWeights(config, WeightFiles.read(r.baseModel(), config), r.config().seed());
        try (TextTokenizer tok = ModelStore.openTokenizer(r.baseModel(), config, r.maxLength());
             TransformerModel model = new TransformerModel(config, init, root)) {
            long eos = config.decoder().eosTokenId();
            ResponseEncoding.Encoding train = ResponseEncoding.encode(tok, r.train(), eos);
            ResponseEncoding.Encoding dev = ResponseEncoding.encode(tok, r.dev(), eos);
            if (train.rows().isEmpty()) {
                throw new HeadGuardException("every training prompt fills the " + r.maxLength() + "-token context; nothing is left to train on");
            }
            double before = dev.rows().isEmpty() ? Double.NaN : ResponseLoss.perplexity(model, dev.rows(), tok.padId(), root);
            progress.onDevPerplexity(0, before);
            Trainer trainer = new Trainer(model, tok.padId(), r.config(), root).withAuxiliaryLoss(ResponseLoss.asTrainingLoss(model, train.rows()));
            String fingerprint = fingerprint(r, config);
            Path checkpoint = Checkpoint.dirFor(r.out());
            Trainer.TrainState start = r.resume() ? Checkpoint.restore(checkpoint, model, trainer.optimizer(), fingerprint) : Trainer.TrainState.start();
            List<Trainer.Epoch> epochs = new ArrayList<>();
            List<Double> devPpl = new ArrayList<>();
            List<Double> losses = new ArrayList<>(start.losses());
            int[] best = {-1};
            double[] bestPpl = {Double.POSITIVE_INFINITY};
            Trainer.TrainState end = trainer.train(train.rows().stream().map(ResponseEncoding.Encoded::ids).toList(), ResponseLoss.unlabelled(train.rows().size()),
                    List.of(), new int[0], start,
                    new Trainer.Listener() {
                        @Override
                        public void onStep(Trainer.Progress p) {
                            losses.add(p.loss());
                            progress.onStep(p);
                        }

                        @Override
                        public void onEpoch(Trainer.Epoch e) {
                            epochs.add(e);
                            progress.onEpoch(e);
                            double ppl = dev.rows().isEmpty() ? Double.NaN : ResponseLoss.perplexity(model, dev.rows(), tok.padId(), root);
                            devPpl.add(ppl);
                            progress.onDevPerplexity(e.epoch(), ppl);
                            if (Double.isNaN(ppl) || ppl < bestPpl[0]) {
                                bestPpl[0] = Double.isNaN(ppl) ? bestPpl[0] : ppl;
                                best[0] = e.epoch();
                                ModelStore.save(model, tok.file(), r.out(), provenance(r, train, dev, before, epochs, devPpl, e.epoch(), losses));
                                progress.onBest(e);
                            }
                        }

                        @Override
                        public void onCheckpoint(Trainer.TrainState s) {
                            Checkpoint.save(checkpoint, model, trainer.optimizer(), s, fingerprint);
                        }
                    });
            trainer.optimizer().close();
            ModelStore.deleteWithTemporaries(checkpoint);
            ModelStore.markTrainingComplete(r.out());
            return new Result(end, epochs, before, devPpl, best[0], train.dropped(), r.out());
        }
    }

    private static Map<String, Object> provenance(Request r, ResponseEncoding.Encoding train, ResponseEncoding.Encoding dev, double before, List<Trainer.Epoch> epochs,
                                                  List<Double> devPpl, int bestEpoch, List<Double> losses) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("command", "train");
        p.put("task", "generation");
        p.put("base_model", r.baseModel().toAbsolutePath().toString());
        p.put("train_examples", train.rows().size());
        p.put("train_examples_dropped", train.dropped());
        p.put("dev_examples", dev.rows().size());
        p.put("train_config", r.config());
        p.put("max_length", r.maxLength());
        p.put("best_epoch", bestEpoch);
        p.put(ModelStore.TRAINING_COMPLETE, false);
        if (!Double.isNaN(before)) {
            p.put("dev_perplexity_before", before);
        }
        List<Map<String, Object>> list = new ArrayList<>();
        for (int i = 0; i < epochs.size(); i++) {
            Map<String, Object> e = FineTuning.epochFields(epochs.get(i));
            e.remove("devAccuracy");
            if (!Double.isNaN(devPpl.get(i))) {
                e.put("devPerplexity", devPpl.get(i));
            }
            list.add(e);
        }
        p.put("epochs", list);
        p.put("losses", new ArrayList<>(losses));
        p.putAll(r.extraProvenance());
        return p;
    }

    static String fingerprint(Request r, ModelConfig config) {
        String s = r.config() + "|" + config + "|" + r.maxLength() + "|" + r.baseModel().toAbsolutePath() + "|" + r.train().hashCode() + "|" + r.dev().hashCode();
        return Integer.toHexString(s.hashCode()) + "-" + r.train().size();
    }
}
