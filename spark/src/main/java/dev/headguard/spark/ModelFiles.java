package dev.headguard.spark;

import dev.headguard.HeadGuardException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A model directory where this JVM can read it: a local path as it is, any other Hadoop filesystem
 * path ({@code hdfs://}, {@code s3a://}, ...) copied once per JVM into a temporary folder, with the
 * Hadoop configuration the executor's classpath gives ({@code HADOOP_CONF_DIR}).
 */
public final class ModelFiles {
    private ModelFiles() {}

    private static final java.util.regex.Pattern SCHEME = java.util.regex.Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]+:.*");

    /** Whether a path is on this machine's filesystem: no scheme, or {@code file:} (a one-letter "scheme" is a Windows drive). */
    public static boolean isLocal(String path) {
        return !SCHEME.matcher(path).matches() || path.startsWith("file:");
    }

    private static final Map<String, Path> COPIES = new ConcurrentHashMap<>();

    /** The directory on this machine: a local path (or {@code file:} URI) as a path, any other copied here once per JVM. */
    public static Path local(String dir) {
        if (isLocal(dir)) {
            return dir.startsWith("file:") ? Path.of(URI.create(dir)) : Path.of(dir);
        }
        return COPIES.computeIfAbsent(dir, d -> {
            try {
                Path tmp = Files.createTempDirectory("headguard-model-");
                org.apache.hadoop.fs.Path src = new org.apache.hadoop.fs.Path(d);
                FileSystem fs = src.getFileSystem(new Configuration());
                fs.copyToLocalFile(false, src, new org.apache.hadoop.fs.Path(tmp.toUri()), true);
                return tmp.resolve(src.getName());
            } catch (IOException e) {
                throw new HeadGuardException(d + ": cannot copy the model to this machine (" + e.getMessage() + ")");
            }
        });
    }
}
