package dev.headguard.repair;

import ai.djl.ndarray.NDManager;
import dev.headguard.model.io.ModelStore;
import dev.headguard.text.Dataset;
import dev.headguard.train.TrainConfig;
import dev.headguard.train.Trainer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Baseline: fine-tune every parameter on the clean set (the defense every paper compares with first). */
public final class FullFineTuning implements Defense {
    private final TrainConfig config;

    public FullFineTuning(TrainConfig config) {
        this.config = config;
    }

    @Override
    public String name() {
        return "finetune";
    }

    @Override
    public RepairOutcome apply(ModelStore.LoadedModel m, Dataset clean, NDManager root, Progress progress) {
        progress.stage("fine-tuning all parameters on " + clean.size() + " clean texts");
        Trainer t = new Trainer(m.model(), m.tokenizer().padId(), config, root);
        try {
            Trainer.TrainState s = t.train(m.tokenizer().idsOf(clean.texts()), clean.labels(), List.of(), new int[0], Trainer.TrainState.start(), progress);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("training", config);
            out.put("final_loss", s.losses().isEmpty() ? Double.NaN : s.losses().get(s.losses().size() - 1));
            return new RepairOutcome.Plain(out);
        } finally {
            t.optimizer().close();
        }
    }
}
