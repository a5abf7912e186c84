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
final class ModelFiles {
    private ModelFiles() {}

    private static final Map<String, Path> COPIES = new ConcurrentHashMap<>();

    static Path local(String dir) {
        URI uri = URI.create(dir.replace(" ", "%20"));
        if (uri.getScheme() == null || uri.getScheme().equals("file") || uri.getScheme().length() == 1) { // c:\ on Windows is a path
            return uri.getScheme() == null ? Path.of(dir) : Path.of(uri);
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
