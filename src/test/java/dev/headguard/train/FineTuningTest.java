package dev.headguard.train;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headguard.HeadGuardException;
import dev.headguard.model.HostTensor;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.io.ModelStore;
import dev.headguard.testing.Fixtures;
import dev.headguard.testing.TestData;
import dev.headguard.text.Dataset;
import dev.headguard.text.DatasetReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fine-tuning pipeline on a tiny model and a real SST-2 slice: output, provenance, checkpoints. */
class FineTuningTest {
    @TempDir
    Path tmp;

    @Test
    void writesTheBestModelWithProvenanceAndCleansUpItsCheckpoint() throws IOException {
        Path base = Fixtures.tinyModelDir(tmp, "base", 3);
        Dataset train = DatasetReader.read(TestData.dataDir().resolve("sst-2/clean/train.tsv")).sample(96, 1);
        Dataset dev = DatasetReader.read(TestData.dataDir().resolve("sst-2/clean/dev.tsv")).sample(48, 1);
        Path out = tmp.resolve("out");
        TrainConfig cfg = new TrainConfig(2, 16, 1e-3, 0.01, 0.1, 1.0, 5, 3);
        try (NDManager root = TorchRuntime.newManager()) {
            FineTuning.Result r = FineTuning.run(new FineTuning.Request(base, train, dev, out, cfg, 32, false, Map.of("note", "test")), root, new Trainer.Listener() {});
            assertEquals(2, r.epochs().size());
            assertEquals(12, r.state().losses().size(), "6 steps per epoch");
            assertFalse(Files.exists(Checkpoint.dirFor(out)), "a finished run leaves no checkpoint");
            JsonNode prov = new ObjectMapper().readTree(out.resolve("headguard.json").toFile());
            assertEquals(r.state().bestEpoch(), prov.get("best_epoch").asInt());
            assertTrue(prov.get(ModelStore.TRAINING_COMPLETE).asBoolean(), "a finished run marks its model complete");
            assertNull(ModelStore.unfinishedTraining(out));
            assertEquals("test", prov.get("note").asText());
            assertEquals(96, prov.get("train_examples").asInt());
            try (ModelStore.LoadedModel m = ModelStore.load(out, root, 32)) {
                assertEquals(2, m.model().config().numLabels());
                // Checkpoints restore exactly, and refuse a run with other settings.
                Path ck = tmp.resolve("ck");
                try (AdamW opt = AdamW.standard(root, 0.01)) {
                    Checkpoint.save(ck, m.model(), opt, new Trainer.TrainState(1, 2, 8, 0.5, 1, java.util.List.of(0.7, 0.6)), "fp");
                }
                try (ModelStore.LoadedModel fresh = ModelStore.load(base, root, 32); AdamW opt = AdamW.standard(root, 0.01)) {
                    Trainer.TrainState s = Checkpoint.restore(ck, fresh.model(), opt, "fp");
                    assertEquals(8, s.step());
                    assertEquals(java.util.List.of(0.7, 0.6), s.losses());
                    Map<String, HostTensor> a = m.model().toHostTensors();
                    Map<String, HostTensor> b = fresh.model().toHostTensors();
                    a.forEach((k, v) -> assertTrue(v.sameContent(b.get(k)), k));
                    HeadGuardException e = assertThrows(HeadGuardException.class, () -> Checkpoint.restore(ck, fresh.model(), opt, "other"));
                    assertTrue(e.getMessage().contains("other settings"));
                }
            }
        }
    }
}
