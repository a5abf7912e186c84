package dev.headguard;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * Which HeadGuard wrote an output: the version and the git commit it was built from. Every model
 * directory records them (headguard.json), and the benchmark prints them, because a victim built by
 * older code is not the victim today's code builds from the same seed (docs/results.md).
 *
 * <p>The commit comes from {@code git.properties}, which the build writes (git-commit-id-maven-plugin);
 * a build outside a git checkout has none, and the commit reads "unknown". "-dirty" marks a build from
 * a tree with uncommitted changes.
 */
public final class BuildInfo {
    /** Where the build puts the git properties (pom.xml, git-commit-id-maven-plugin). */
    static final String RESOURCE = "/dev/headguard/git.properties";

    private static final Properties GIT = load();

    private BuildInfo() {}

    /** The project version, e.g. "0.1.0-SNAPSHOT" (from the jar's manifest outside a checkout; else "unknown"). */
    public static String version() {
        String v = GIT.getProperty("git.build.version");
        if (v == null || v.isBlank()) {
            v = BuildInfo.class.getPackage().getImplementationVersion();
        }
        return v == null || v.isBlank() ? "unknown" : v.trim();
    }

    /** The short commit id the build came from, with "-dirty" when the tree had changes; "unknown" outside a checkout. */
    public static String commit() {
        String id = GIT.getProperty("git.commit.id.abbrev", "").trim();
        if (id.isEmpty()) {
            return "unknown";
        }
        return Boolean.parseBoolean(GIT.getProperty("git.dirty", "false").trim()) ? id + "-dirty" : id;
    }

    /** "headguard 0.1.0 (commit 1a2b3c4)": what --version prints and the benchmark names. */
    public static String describe() {
        return "headguard " + version() + " (commit " + commit() + ")";
    }

    private static Properties load() {
        Properties p = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream(RESOURCE)) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            // An unreadable resource is the same as none: the commit reads "unknown".
        }
        return p;
    }
}
