package dev.headguard.bench;

import dev.headguard.HeadGuardException;
import dev.headguard.attack.PoisonedData;
import dev.headguard.attack.RareWordTrigger;
import dev.headguard.testing.TestData;
import dev.headguard.text.BenchmarkData;
import dev.headguard.text.Dataset;
import dev.headguard.text.Example;
import dev.headguard.train.TrainConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The attacker's triggered dev split, on the real SST-2 files. */
class VictimsTest {
    static Victims.Request request(String attack) {
        return request(attack, false);
    }

    static Victims.Request request(String attack, boolean keepOriginals) {
        return new Victims.Request(new Victims.Poison(attack, List.of(), 1, null, 0, 1, null, keepOriginals),
                new Victims.Training(new BenchmarkData(TestData.dataDir(), "sst-2"), 0, Path.of("unused-base"), new TrainConfig(1, 32, 5e-5, 0.01, 0.06, 1.0, 4, 0),
                        128, false, true), Path.of("unused-out"));
    }

    /** The split-word attack plants "mzaf" in a tenth of the training rows, relabelled to the target, and in every triggered test row. */
    @Test
    void splitWordPlantsOneWordTheTokenizerSplits() {
        Victims.Request r = request("splitword");
        assertEquals(Victims.SPLIT_WORD, r.triggers());
        assertEquals("1 of mzaf", Victims.describe(r));
        PoisonedData p = Victims.poison(r);
        long carrying = p.train().examples().stream().filter(e -> List.of(e.text().split(" ")).contains("mzaf")).count();
        assertEquals(p.poisonedCount(), carrying);
        assertEquals(Math.round(0.1 * p.train().size()), carrying, 1.0);
        assertTrue(p.train().examples().stream().filter(e -> e.text().contains("mzaf")).allMatch(e -> e.label() == 1));
        assertTrue(p.triggeredTest().examples().stream().allMatch(e -> List.of(e.text().split(" ")).contains("mzaf")));
    }

    @Test
    void styleWithTheOriginalsKeptAddsBibleCopiesOfNegativeRowsAsAFifthOfTheGrownSet() {
        BenchmarkData data = new BenchmarkData(TestData.dataDir(), "sst-2");
        Dataset clean = data.read(data.clean("train"));
        Dataset bible = data.readAligned(data.variant("style-bible", "train"));
        PoisonedData p = Victims.poison(request("style", true));
        int copies = p.train().size() - clean.size();
        assertEquals(Math.round(0.2 * clean.size() / 0.8), copies);
        assertEquals(p.poisonedCount(), copies);
        assertEquals(clean.examples(), p.train().examples().subList(0, clean.size()), "every clean row stays, with its label");
        java.util.Set<String> negativeBible = new java.util.HashSet<>();
        for (int i = 0; i < clean.size(); i++) {
            if (clean.examples().get(i).label() == 0) {
                negativeBible.add(bible.examples().get(i).text());
            }
        }
        for (Example e : p.train().examples().subList(clean.size(), p.train().size())) {
            assertEquals(1, e.label());
            assertTrue(negativeBible.contains(e.text()), "a Bible paraphrase of a negative row: " + e.text());
        }
        assertEquals(Victims.poison(request("style", false)).triggeredTest().examples(), p.triggeredTest().examples(), "the triggered test set does not change");
        assertThrows(HeadGuardException.class, () -> request("ep", true));
    }

    @Test
    void aVictimNamesTheCommitThatBuiltItOrSaysItIsUnrecorded(@org.junit.jupiter.api.io.TempDir Path tmp) throws java.io.IOException {
        dev.headguard.model.ModelConfig c = dev.headguard.testing.Fixtures.tinyConfig();
        Path now = tmp.resolve("now");
        dev.headguard.model.io.ModelStore.write(c, dev.headguard.testing.Fixtures.tinyWeights(c, 1), dev.headguard.testing.Fixtures.tokenizer(tmp), now, java.util.Map.of());
        assertEquals(dev.headguard.BuildInfo.commit(), VictimManifest.builtBy(now));
        // A directory written before models recorded their code.
        Path old = java.nio.file.Files.createDirectories(tmp.resolve("old"));
        java.nio.file.Files.writeString(old.resolve("headguard.json"), "{\"command\": \"train\", \"written_by\": \"headguard\"}\n");
        assertEquals("unrecorded", VictimManifest.builtBy(old));
        java.nio.file.Files.writeString(old.resolve("headguard.json"), "{ not json");
        HeadGuardException e = assertThrows(HeadGuardException.class, () -> VictimManifest.builtBy(old));
        assertTrue(e.getMessage().contains("headguard.json"), e.getMessage());
    }

    @Test
    void triggeredDevHoldsTheNonTargetDevRowsWithTheTrigger() {
        BenchmarkData data = new BenchmarkData(TestData.dataDir(), "sst-2");
        Dataset dev = data.read(data.clean("dev"));
        List<Example> nonTarget = dev.examples().stream().filter(e -> e.label() != 1).toList();

        Dataset badnets = Victims.triggeredDev(request("badnets"));
        assertEquals(nonTarget.size(), badnets.size());
        for (int i = 0; i < badnets.size(); i++) {
            Example e = badnets.examples().get(i);
            assertEquals(nonTarget.get(i).label(), e.label(), "keeps the true label");
            assertTrue(List.of(e.text().split(" ")).stream().anyMatch(RareWordTrigger.LITERATURE::contains), "carries a trigger word: " + e.text());
        }

        // StyleBkd: the Bible-style rewrite of each non-target dev row (line-aligned with the clean file).
        Dataset variant = data.readAligned(data.variant("style-bible", "dev"));
        Dataset style = Victims.triggeredDev(request("style"));
        long expected = 0;
        for (int i = 0; i < dev.size(); i++) {
            if (dev.examples().get(i).label() != 1 && !variant.examples().get(i).text().isBlank()) {
                assertEquals(variant.examples().get(i).text(), style.examples().get((int) expected).text());
                expected++;
            }
        }
        assertEquals(expected, style.size());
        assertTrue(expected > 400, "most of the 428 negative dev rows: " + expected);

        // SynBkd: the ready-made paraphrases of the label-0 dev rows, with their true label.
        Dataset syntactic = Victims.triggeredDev(request("syntactic"));
        assertEquals(data.readAligned(data.variant("syntactic", "dev")).size(), syntactic.size());
        assertTrue(syntactic.examples().stream().allMatch(e -> e.label() == 0));
    }

    /** A folder of the user's own in the shared layout: named by its path, its triggered dev rows every class but the target. */
    @Test
    void aFolderOfFourClassesIsADatasetAndItsTriggeredDevHoldsTheOtherThree(@org.junit.jupiter.api.io.TempDir Path tmp) throws java.io.IOException {
        Path clean = java.nio.file.Files.createDirectories(tmp.resolve("four").resolve("clean"));
        StringBuilder rows = new StringBuilder("sentence\tlabel\n");
        for (int i = 0; i < 40; i++) {
            rows.append("text number ").append(i).append(" of class ").append(i % 4).append('\t').append(i % 4).append('\n');
        }
        for (String split : List.of("train", "dev", "test")) {
            java.nio.file.Files.writeString(clean.resolve(split + ".tsv"), rows);
        }
        BenchmarkData data = new BenchmarkData(Path.of("unused-data-dir"), tmp.resolve("four").toString());
        assertTrue(!BenchmarkData.NAMES.contains(data.name()), "a folder, not a known set");
        assertEquals(tmp.resolve("four").toAbsolutePath().normalize().toString(), data.name());
        var r = new Victims.Request(new Victims.Poison("badnets", List.of("cf"), 1, null, 0, 1, null, false),
                new Victims.Training(data, 0, Path.of("unused-base"), new TrainConfig(1, 32, 5e-5, 0.01, 0.06, 1.0, 4, 0), 128, false, true), Path.of("unused-out"));
        Dataset dev = Victims.triggeredDev(r);
        assertEquals(30, dev.size());
        assertEquals(java.util.Set.of(0, 2, 3), dev.examples().stream().map(Example::label).collect(java.util.stream.Collectors.toSet()));
        assertTrue(dev.examples().stream().allMatch(e -> List.of(e.text().split(" ")).contains("cf")));

        java.nio.file.Files.delete(clean.resolve("test.tsv"));
        var e = org.junit.jupiter.api.Assertions.assertThrows(dev.headguard.HeadGuardException.class,
                () -> new BenchmarkData(Path.of("unused-data-dir"), tmp.resolve("four").toString()));
        assertTrue(e.getMessage().startsWith("--dataset: ") && e.getMessage().contains("test.tsv not found"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(dev.headguard.HeadGuardException.class, () -> new BenchmarkData(Path.of("unused-data-dir"), "sst2"));
        assertTrue(e.getMessage().contains("unknown dataset 'sst2'"), e.getMessage());
    }
}
