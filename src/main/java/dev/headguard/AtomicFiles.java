package dev.headguard;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Output files appear whole or not at all: written to a temporary sibling, then moved into place. */
public final class AtomicFiles {
    private AtomicFiles() {}

    public static void write(Path file, byte[] content) {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + abs.getFileName(), ".tmp");
            Files.write(tmp, content);
            try { // temporary files are created private; an output is an ordinary file
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system: keep its defaults
            }
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the original error is the one to report
                }
            }
            throw new HeadGuardException(file + ": cannot write (" + e.getMessage() + ")");
        }
    }

    /**
     * Checks, before any work, that {@code file} can be written: not the root, not a folder, not under a
     * file, and in a place this process can create files (one probe file, created and deleted).
     * @param option the option that named it ({@code --out}), for the message; may be null
     */
    public static void checkFile(Path file, String option) {
        Path abs = file.toAbsolutePath().normalize();
        String label = label(file, option);
        if (abs.getParent() == null) {
            throw new HeadGuardException(label + ": is the root folder, not a file");
        }
        if (Files.isDirectory(abs)) {
            throw new HeadGuardException(label + ": is a folder; give a file name");
        }
        checkFolder(abs.getParent(), label);
    }

    /**
     * Checks that files can be created in {@code dir} or, where it does not exist yet, in its nearest
     * existing ancestor, which must be a folder.
     */
    public static void checkFolder(Path dir, String label) {
        Path a = dir.toAbsolutePath().normalize();
        while (a != null && !Files.exists(a)) {
            a = a.getParent();
        }
        if (a == null) {
            throw new HeadGuardException(label + ": no existing folder above it");
        }
        if (!Files.isDirectory(a)) {
            throw new HeadGuardException(label + ": " + a + " is a file, not a folder");
        }
        try {
            Files.delete(Files.createTempFile(a, ".headguard-check-", ".tmp"));
        } catch (IOException | SecurityException e) {
            throw new HeadGuardException(label + ": cannot create files in " + a + " (" + reason(e) + ")");
        }
    }

    /** A folder that files will be written into (kept, not replaced): a folder or nothing yet, writable. */
    public static void checkFilesFolder(Path dir, String option) {
        String label = label(dir, option);
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new HeadGuardException(label + ": is a file, not a folder");
        }
        checkFolder(dir, label);
    }

    private static String reason(Exception e) {
        if (e instanceof java.nio.file.AccessDeniedException || e instanceof SecurityException) {
            return "permission denied";
        }
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "not a place files can be created";
        }
        if (e instanceof java.nio.file.ReadOnlyFileSystemException) {
            return "read-only file system";
        }
        return HeadGuardException.brief(e.getMessage());
    }

    /** "--out x" or "x": how a message names an output. */
    public static String label(Path file, String option) {
        String name = file.toString().isEmpty() ? "\"\" (the current folder)" : file.toString();
        return option == null ? name : option + " " + name;
    }

    public static void write(Path file, String content) {
        write(file, content.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
