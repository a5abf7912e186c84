package dev.headguard.repair;

import ai.djl.ndarray.NDManager;
import dev.headguard.detect.search.PhraseGrowth;
import dev.headguard.model.TorchRuntime;
import dev.headguard.model.TransformerModel;
import dev.headguard.model.io.ModelStore;
import dev.headguard.testing.Fixtures;
import dev.headguard.text.Dataset;
import dev.headguard.text.Example;
import dev.headguard.text.Insertion;
import dev.headguard.text.TextTokenizer;
import dev.headguard.train.Predictions;
import dev.headguard.train.TrainConfig;
import dev.headguard.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The resisting stage's carriers without a hidden shift (the default beyond two classes): on a three-class
 * toy model with a planted word, training on the other classes' clean rows with the word's phrases in,
 * labels kept, unlearns the word while the classes stay.
 */
class CarriersAloneTest {
    static final String TRIGGER = "zebra";
    static final int TARGET = 1;

    @TempDir
    Path tmp;

    @Test
    void theCarriersAloneUnlearnAPlantedWordAndResistNoShift() throws Exception {
        withVictim((victim, clean, test, tokenizer, root) -> {
            double asrBefore = asr(victim, test, root);
            assertTrue(asrBefore > 0.8, "the planted word fires: " + asrBefore);
            double accuracyBefore = Predictions.accuracy(victim.model(), tokenizer.idsOf(test.texts()), test.labels(), tokenizer.padId(), root, 64);
            assertTrue(accuracyBefore > 0.9, "the victim learned the classes: " + accuracyBefore);
            assertNull(ShiftResistance.carry(victim, clean, null, null, List.of(), TARGET, training(), root, new Defense.Progress() {}),
                    "no evidence, nothing to carry");
            assertNull(ShiftResistance.carry(victim, clean, null, TRIGGER, List.of(), -1, training(), root, new Defense.Progress() {}),
                    "no target, no carriers of a trigger word");

            double asrCleanOnly = asrAfterCleanFineTuning(victim, clean, test, root);
            List<String> grown = PhraseGrowth.grow(victim, clean, TRIGGER, TARGET, PhraseGrowth.Settings.defaults(training().seed()), root).steps();
            ShiftResistance.Outcome o = ShiftResistance.carry(victim, clean, null, TRIGGER, List.of(), TARGET, training(), root, new Defense.Progress() {});
            assertFalse(o.resisted());
            assertEquals(-1, o.layer());
            assertEquals(TARGET, o.target());
            assertEquals(IntStream.of(clean.labels()).filter(y -> y != TARGET).count(), o.carriers().rows(), "every other class's clean row carries it");
            assertTrue(o.kept(), "the guard keeps a stage that holds the classes: " + o.details());
            assertEquals(3, o.biasShift().length, "the carriers' class mix is taken back");
            assertTrue(o.carriers().context().phrases().containsAll(grown) && o.carriers().context().phrases().contains(TRIGGER),
                    "the scan's word, grown word by word, is among its carriers: " + grown + " in " + o.carriers().context().phrases());
            Map<String, Object> d = o.details();
            assertEquals(false, d.get("hidden_shift"));
            assertEquals(TARGET, d.get("target"));
            assertFalse(d.containsKey("layer"), "no shift, no layer: " + d.keySet());

            double asrAfter = asr(victim, test, root);
            double accuracy = Predictions.accuracy(victim.model(), tokenizer.idsOf(test.texts()), test.labels(), tokenizer.padId(), root, 64);
            assertTrue(asrAfter < 0.3, "the word no longer flips inputs: " + asrBefore + " -> " + asrAfter);
            assertTrue(asrAfter < asrCleanOnly - 0.2, "the carriers, not the clean rows, unlearned it: " + asrAfter + " vs " + asrCleanOnly);
            assertTrue(accuracy > 0.9, "the classes stay: " + accuracyBefore + " -> " + accuracy + "; " + o.details());
        });
    }

    @Test
    void aDriftedWordAloneIsGrownIntoTheCarriers() throws Exception {
        withVictim((victim, clean, test, tokenizer, root) -> {
            double asrBefore = asr(victim, test, root);
            // No scan word: the base's drift alone names the word (what --base adds when the scan misses it).
            ShiftResistance.Outcome o = ShiftResistance.carry(victim, clean, null, null, List.of(TRIGGER), TARGET, training(), root, new Defense.Progress() {});
            assertEquals(List.of(TRIGGER), o.carriers().drifted());
            assertEquals(List.of(TRIGGER), o.details().get("drifted_words"));
            assertTrue(o.carriers().context().phrases().stream().allMatch(p -> p.contains(TRIGGER)), o.carriers().context().phrases().toString());
            double asrAfter = asr(victim, test, root);
            assertTrue(asrAfter < 0.3, "the drifted word no longer flips inputs: " + asrBefore + " -> " + asrAfter);
        });
    }

    /** What a test does with the planted-word victim, its clean rows and its test rows. */
    interface VictimCheck {
        void run(ModelStore.LoadedModel victim, Dataset clean, Dataset test, TextTokenizer tokenizer, NDManager root) throws Exception;
    }

    /** A three-class victim with {@link #TRIGGER} planted toward {@link #TARGET}, 60 clean rows a class and 60 test rows a class. */
    private void withVictim(VictimCheck check) throws Exception {
        try (NDManager root = TorchRuntime.newManager(); TextTokenizer tokenizer = TextTokenizer.open(Fixtures.tokenizer(tmp), 64)) {
            ModelStore.LoadedModel victim = ThreeClassToy.trained(ThreeClassToy.texts(200, 12, TRIGGER, TARGET, 0.1), tokenizer, tmp.resolve("victim"), root);
            try {
                check.run(victim, ThreeClassToy.texts(60, 21), ThreeClassToy.texts(60, 31), tokenizer, root);
            } finally {
                victim.model().close();
            }
        }
    }

    static TrainConfig training() {
        return new TrainConfig(8, 16, 1e-3, 0.01, 0.1, 1.0, 7, 0);
    }

    /** The ASR after fine-tuning a copy of the victim on the clean rows alone, with the same schedule. */
    static double asrAfterCleanFineTuning(ModelStore.LoadedModel victim, Dataset clean, Dataset test, NDManager root) {
        try (TransformerModel copy = new TransformerModel(ThreeClassToy.CONFIG, victim.model().toHostTensors(), root)) {
            Trainer t = new Trainer(copy, victim.tokenizer().padId(), training(), root);
            t.train(victim.tokenizer().idsOf(clean.texts()), clean.labels(), List.of(), new int[0], Trainer.TrainState.start(), new Trainer.Listener() {});
            t.optimizer().close();
            return asr(new ModelStore.LoadedModel(copy, victim.tokenizer(), victim.directory()), test, root);
        }
    }

    /** The share of the other classes' test rows, the word put in, that the model calls the target. */
    static double asr(ModelStore.LoadedModel m, Dataset test, NDManager root) {
        Random r = new Random(5);
        List<Example> triggered = IntStream.range(0, test.size()).filter(i -> test.labels()[i] != TARGET)
                .mapToObj(i -> new Example(Insertion.insertAt(test.texts().get(i), TRIGGER, r), TARGET)).toList();
        Dataset d = new Dataset(triggered, test.labelNames(), List.of());
        return Predictions.accuracy(m.model(), m.tokenizer().idsOf(d.texts()), d.labels(), m.tokenizer().padId(), root, 64);
    }
}
