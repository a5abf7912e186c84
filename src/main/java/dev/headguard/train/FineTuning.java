package dev.headguard.train;

import ai.djl.ndarray.NDManager;
import dev.headguard.model.ModelConfig;
import dev.headguard.model.TransformerModel;
import dev.headguard.model.HostTensor;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Dataset;
import dev.headguard.text.TextTokenizer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fine-tunes a model directory on a labelled dataset and writes the best epoch (by dev accuracy)
 * to an output directory, with its provenance; the Java API behind {@code headguard train}.
 */
public final class FineTuning {
    /** The finished run. */
    public record Result(Trainer.TrainState state, List<Trainer.Epoch> epochs, Path out) {}

    /**
     * What a run needs. {@code extraProvenance} is merged into headguard.json (an attack's manifest,
     * say). With {@code triggeredDev} (null: none) the best epoch is the one with the best dev accuracy
     * plus ASR on it ({@link Trainer#withTriggeredDev}).
     */
    public record Request(Path baseModel, Dataset train, Dataset dev, Path out, TrainConfig config, int maxLength, boolean resume,
                          Map<String, Object> extraProvenance, TriggeredDev triggeredDev) {
        public Request(Path baseModel, Dataset train, Dataset dev, Path out, TrainConfig config, int maxLength, boolean resume,
                       Map<String, Object> extraProvenance) {
            this(baseModel, train, dev, out, config, maxLength, resume, extraProvenance, null);
        }
    }

    /** Triggered dev inputs and the class the attacker sends them to: the attacker's model selection. */
    public record TriggeredDev(Dataset inputs, int target) {}

    private FineTuning() {}

    public static Result run(Request r, NDManager root, Trainer.Listener progress) {
        if (r.train().numLabels() < 2) {
            throw new dev.headguard.HeadGuardException("the training set has only one class (" + r.train().labelNames() + "); a classifier needs at least two");
        }
        Start start0 = start(r.baseModel(), r.train(), r.dev(), r.config().seed());
        ModelConfig config = start0.config();
        Map<String, HostTensor> init = start0.weights();
        try (TextTokenizer tokenizer = ModelStore.openTokenizer(r.baseModel(), config, r.maxLength());
             TransformerModel model = new TransformerModel(config, init, root)) {
            List<long[]> trainIds = tokenizer.idsOf(r.train().texts());
            List<long[]> devIds = r.dev() == null ? List.of() : tokenizer.idsOf(r.dev().texts());
            int[] devLabels = r.dev() == null ? new int[0] : r.dev().labels();
            String fingerprint = fingerprint(r, config);
            Trainer trainer = new Trainer(model, tokenizer.padId(), r.config(), root);
            if (r.triggeredDev() != null) {
                trainer.withTriggeredDev(tokenizer.idsOf(r.triggeredDev().inputs().texts()), r.triggeredDev().target());
            }
            Path checkpoint = Checkpoint.dirFor(r.out());
            Trainer.TrainState start = r.resume() ? Checkpoint.restore(checkpoint, model, trainer.optimizer(), fingerprint) : Trainer.TrainState.start();
            List<Trainer.Epoch> epochs = new ArrayList<>();
            List<Double> lossesSoFar = new ArrayList<>(start.losses());
            Trainer.TrainState end = trainer.train(trainIds, r.train().labels(), devIds, devLabels, start, new Trainer.Listener() {
                @Override
                public void onStep(Trainer.Progress p) {
                    lossesSoFar.add(p.loss());
                    progress.onStep(p);
                }

                @Override
                public void onEpoch(Trainer.Epoch e) {
                    epochs.add(e);
                    progress.onEpoch(e);
                }

                @Override
                public void onBest(Trainer.Epoch e) {
                    ModelStore.save(model, tokenizer.file(), r.out(), provenance(r, config, epochs, e, lossesSoFar));
                    progress.onBest(e);
                }

                @Override
                public void onCheckpoint(Trainer.TrainState s) {
                    Checkpoint.save(checkpoint, model, trainer.optimizer(), s, fingerprint);
                }
            });
            trainer.optimizer().close();
            ModelStore.deleteWithTemporaries(checkpoint); // a finished run needs no checkpoint, nor what a killed one left
            ModelStore.markTrainingComplete(r.out());
            return new Result(end, epochs, r.out());
        }
    }

    /** A classifier to start training from: the base model's config with the data's classes, and its weights. */
    public record Start(ModelConfig config, Map<String, HostTensor> weights) {}

    /** The base model with the classes of {@code train} (or of {@code dev}, when it has more) and a new, seeded output layer when their count differs. */
    public static Start start(Path baseModel, Dataset train, Dataset devSet, long seed) {
        ModelConfig base = ModelStore.readConfig(baseModel);
        Map<String, HostTensor> weights = dev.headguard.model.io.WeightFiles.read(baseModel, base);
        List<String> labels = train.labelNames();
        if (devSet != null && devSet.numLabels() > labels.size()) {
            labels = devSet.labelNames();
        }
        ModelConfig config = base.withLabels(labels);
        Map<String, HostTensor> keep = new LinkedHashMap<>(weights);
        if (base.numLabels() != labels.size()) {
            keep.remove(base.family().head.out + ".weight"); // a new class count: a new output layer
            keep.remove(base.family().head.out + ".bias");
        }
        return new Start(config, dev.headguard.model.ParameterTable.initialWeights(config, keep, seed));
    }

    private static Map<String, Object> provenance(Request r, ModelConfig config, List<Trainer.Epoch> epochs, Trainer.Epoch best, List<Double> losses) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("command", "train");
        p.put("base_model", r.baseModel().toAbsolutePath().toString());
        p.put("train_examples", r.train().size());
        p.put("dev_examples", r.dev() == null ? 0 : r.dev().size());
        p.put("labels", config.labels());
        p.put("train_config", r.config());
        p.put("max_length", r.maxLength());
        p.put("best_epoch", best.epoch());
        p.put(ModelStore.TRAINING_COMPLETE, false); // until the run ends: a killed run leaves a model that says so
        p.put("best_dev_accuracy", best.devAccuracy());
        if (r.triggeredDev() != null) {
            p.put("best_dev_asr", best.devAsr());
            p.put("triggered_dev_examples", r.triggeredDev().inputs().size());
        }
        p.put("epochs", epochs.stream().map(FineTuning::epochFields).toList());
        p.put("losses", new ArrayList<>(losses)); // every step's loss up to the saved epoch: same seed, same curve
        p.putAll(r.extraProvenance());
        return p;
    }

    /** An epoch as headguard.json lists it: its ASR on the triggered dev set only when the run had one (no NaN in the file). */
    public static Map<String, Object> epochFields(Trainer.Epoch e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epoch", e.epoch());
        m.put("meanLoss", e.meanLoss());
        m.put("devAccuracy", e.devAccuracy());
        if (!Double.isNaN(e.devAsr())) {
            m.put("devAsr", e.devAsr());
        }
        m.put("seconds", e.seconds());
        m.put("sentencesPerSecond", e.sentencesPerSecond());
        m.put("gflopPerSecond", e.gflopPerSecond());
        return m;
    }

    /** Settings, base model and data: a resume must match all of them. */
    static String fingerprint(Request r, ModelConfig config) {
        StringBuilder sb = new StringBuilder();
        sb.append(r.config()).append('|').append(config).append('|').append(r.maxLength()).append('|').append(r.baseModel().toAbsolutePath());
        sb.append('|').append(r.train().examples().hashCode()).append('|').append(r.dev() == null ? 0 : r.dev().examples().hashCode());
        if (r.triggeredDev() != null) { // another selection rule: a resume must not mix the two
            sb.append('|').append(r.triggeredDev().inputs().examples().hashCode()).append('|').append(r.triggeredDev().target());
        }
        return Integer.toHexString(sb.toString().hashCode()) + "-" + r.train().size();
    }
}
