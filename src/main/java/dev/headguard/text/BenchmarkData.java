package dev.headguard.text;

import dev.headguard.HeadGuardException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The benchmark sets under a data directory (../shared/data by default), by name: {@code sst-2}
 * and {@code offenseval}, each with clean train/dev/test, and for SST-2 the ready-made
 * {@code syntactic} (SynBkd) and {@code style-bible} (StyleBkd) variants. A user's own set is a
 * folder in the same layout ({@code clean/train.tsv}, {@code dev.tsv}, {@code test.tsv}), named by
 * its path; its name is then the folder's absolute path, so a victim's manifest says which one.
 */
public record BenchmarkData(Path dataDir, String name) {
    public static final List<String> NAMES = List.of("sst-2", "offenseval");

    public BenchmarkData {
        if (!NAMES.contains(name)) {
            name = ownFolder(name);
        } else if (!Files.isDirectory(dataDir.resolve(name))) {
            throw new HeadGuardException(dataDir.resolve(name) + ": dataset directory not found (set --data-dir)");
        }
    }

    private static String ownFolder(String name) {
        Path folder;
        try {
            folder = Path.of(name).toAbsolutePath().normalize();
        } catch (java.nio.file.InvalidPathException e) {
            folder = null;
        }
        if (folder == null || !Files.isDirectory(folder)) {
            throw new HeadGuardException("--dataset: unknown dataset '" + name + "' (known: " + String.join(", ", NAMES)
                    + ", or a folder holding clean/train.tsv, dev.tsv and test.tsv)");
        }
        for (String split : List.of("train", "dev", "test")) {
            if (!Files.isRegularFile(folder.resolve("clean").resolve(split + ".tsv"))) {
                throw new HeadGuardException("--dataset: " + folder.resolve("clean").resolve(split + ".tsv") + " not found (a dataset folder holds clean/train.tsv, dev.tsv and test.tsv)");
            }
        }
        return folder.toString();
    }

    /** A split of the clean data: train, dev or test. */
    public Path clean(String split) {
        return file("clean", split);
    }

    /** A split of a variant: syntactic or style-bible (SST-2 only). */
    public Path variant(String variant, String split) {
        return file(variant, split);
    }

    private Path file(String variant, String split) {
        Path p = dataDir.resolve(name).resolve(variant).resolve(split + ".tsv");
        if (!Files.isRegularFile(p)) {
            throw new HeadGuardException(p + ": not found (" + name + " has no " + variant + " " + split + " split)");
        }
        return p;
    }

    public Dataset read(Path file) {
        return DatasetReader.read(file);
    }

    /** A parallel variant file, read with blank rows kept (as "") so that it stays line-aligned with the clean file. */
    public Dataset readAligned(Path file) {
        return DatasetReader.read(file, DatasetReader.Options.defaults().withOnBadRow(DatasetReader.OnBadRow.KEEP_BLANK));
    }
}
