package dev.headguard.repair;

import ai.djl.ndarray.NDManager;
import dev.headguard.model.ForwardOptions;
import dev.headguard.model.ModelConfig;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.TransformerModel;
import dev.headguard.model.io.ModelStore;
import dev.headguard.testing.Fixtures;
import dev.headguard.text.Dataset;
import dev.headguard.text.TextTokenizer;
import dev.headguard.train.Predictions;
import dev.headguard.train.TrainConfig;
import dev.headguard.train.Trainer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hidden shift toward a target on a model of three classes: each other class gets the shift that
 * carries its own rows there, and resisting holds every class's shift within the smallest of those radii
 * ({@link ThreeClassToy}).
 */
class HiddenPerturbationTest {
    static final ModelConfig CONFIG = ThreeClassToy.CONFIG;
    /** Fine steps on the tiny model, as in PlantedBackdoorTest. */
    static final HiddenPerturbation.Settings S = new HiddenPerturbation.Settings(0.5, 0.02, 60, 0.5, 64, 1.0, 1.25, false, 3);

    @TempDir
    static Path tmp;
    static NDManager root;
    static TextTokenizer tokenizer;
    static ModelStore.LoadedModel model;

    @BeforeAll
    static void train() throws Exception {
        root = TorchRuntime.newManager();
        tokenizer = TextTokenizer.open(Fixtures.tokenizer(tmp), 64);
        model = ThreeClassToy.trained(ThreeClassToy.texts(200, 11), tokenizer, tmp.resolve("three"), root);
    }

    @AfterAll
    static void close() {
        model.model().close();
        tokenizer.close();
        root.close();
    }

    @Test
    void eachOtherClassGetsTheShiftThatCarriesItsOwnRowsToTheTarget() {
        Dataset clean = ThreeClassToy.texts(60, 21);
        double accuracy = Predictions.accuracy(model.model(), tokenizer.idsOf(clean.texts()), clean.labels(), tokenizer.padId(), root, 64);
        assertTrue(accuracy > 0.9, "the toy model learned its three classes: " + accuracy);
        HiddenPerturbation.Found pooled = HiddenPerturbation.search(model, clean, S, root).withTarget(1);
        HiddenPerturbation.TowardTarget toward = HiddenPerturbation.towardTarget(model, clean, S, pooled, root);
        String seen = Arrays.toString(toward.radii()) + " reaching " + Arrays.toString(toward.reached()) + ", pooled " + pooled.radius();
        assertEquals(Double.POSITIVE_INFINITY, toward.radii()[1], "the target's own rows get no shift: " + seen);
        for (int y : new int[] {0, 2}) {
            assertTrue(toward.reached()[y] >= S.flipShare(), "class " + y + "'s own shift carries half its rows to the target: " + seen);
            assertTrue(toward.radii()[y] > 0 && toward.radii()[y] <= S.steps() * S.stepShare() + 1e-9, seen);
        }
        assertEquals(Math.min(toward.radii()[0], toward.radii()[2]), toward.budget(), 1e-12);
        assertTrue(!Arrays.equals(toward.deltas()[0], toward.deltas()[2]), "two classes, two shifts");

        TransformerModel copy = new TransformerModel(CONFIG, model.model().toHostTensors(), root);
        ModelStore.LoadedModel victim = new ModelStore.LoadedModel(copy, tokenizer, tmp.resolve("resisted"));
        Trainer t = new Trainer(copy, tokenizer.padId(), new TrainConfig(2, 16, 1e-3, 0.01, 0.0, 1.0, 2, 0), root).withConstantRate();
        try (ResistanceTerm r = new ResistanceTerm(victim, clean.labels(), pooled, toward, S,
                ForwardOptions.INFERENCE.withTraining(true), root)) {
            t.withAuxiliaryLoss(r);
            t.train(tokenizer.idsOf(clean.texts()), clean.labels(), List.of(), new int[0], Trainer.TrainState.start(), new Trainer.Listener() {});
            double ball = S.ball() * toward.budget() * pooled.norm();
            for (int y : new int[] {0, 2}) {
                assertTrue(!Arrays.equals(toward.deltas()[y], r.delta(y)), "class " + y + "'s shift climbed the loss during training");
                assertTrue(HiddenPerturbation.norm(r.delta(y)) <= 1.0001 * ball,
                        "class " + y + "'s shift is held within the nearest class's radius: " + HiddenPerturbation.norm(r.delta(y)) + " > " + ball);
            }
        } finally {
            t.optimizer().close();
            copy.close();
        }
    }
}
