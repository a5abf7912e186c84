package dev.headguard.report;

import dev.headguard.BuildInfo;
import dev.headguard.HeadGuardException;
import dev.headguard.Sha256;
import dev.headguard.model.io.BuiltinModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where a {@code scan model} report of one model, clean file and set of settings is kept, so that
 * {@code scan inputs} runs the model scan once and a second call reads its evidence back. The
 * place is HeadGuard's own cache ({@code $HEADGUARD_HOME/scans}), never the model's folder (which
 * may be read-only or shared), and its name is a SHA-256 over every file of the model folder, the
 * clean file, the settings and HeadGuard's version: a changed model, clean file or rule is a new
 * name, so it is scanned again.
 */
public final class ScanCache {
    private ScanCache() {}

    /** The cached report's path (it may not exist yet). */
    public static Path reportFor(Path modelDir, Path cleanFile, String settings) {
        return BuiltinModel.cacheRoot().resolve("scans").resolve(key(modelDir, cleanFile, settings) + ".json");
    }

    static String key(Path modelDir, Path cleanFile, String settings) {
        MessageDigest d = Sha256.digest();
        List<Path> files;
        try (Stream<Path> s = Files.list(modelDir)) {
            files = s.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new HeadGuardException(modelDir + ": cannot list the model folder (" + e.getMessage() + ")");
        }
        for (Path f : files) {
            update(d, f.getFileName().toString());
            digestFile(d, f);
        }
        update(d, "clean");
        digestFile(d, cleanFile);
        update(d, settings);
        update(d, BuildInfo.version() + " " + BuildInfo.commit());
        return HexFormat.of().formatHex(d.digest()).substring(0, 32);
    }

    private static void update(MessageDigest d, String s) {
        d.update(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        d.update((byte) 0);
    }

    private static void digestFile(MessageDigest d, Path f) {
        try {
            Sha256.update(d, f);
        } catch (IOException e) {
            throw new HeadGuardException(f + ": cannot read (" + e.getMessage() + ")");
        }
        d.update((byte) 0);
    }
}
