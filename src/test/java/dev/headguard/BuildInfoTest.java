package dev.headguard;

import dev.headguard.cli.Main;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The build records the commit it comes from, and --version says it. */
class BuildInfoTest {
    @Test
    void theCommitIsTheCheckoutsHead() throws Exception {
        // In a git checkout (the build's plugin reads the same repository) the recorded commit is HEAD's;
        // outside one there is nothing to compare with and the build writes none.
        assumeTrue(Files.isDirectory(Path.of(".git")), "not a git checkout: no commit to compare with");
        String head = git("rev-parse", "--short=7", "HEAD");
        assumeTrue(head != null, "git is not runnable here");
        assertTrue(BuildInfo.commit().equals(head) || BuildInfo.commit().equals(head + "-dirty"),
                "recorded " + BuildInfo.commit() + ", HEAD is " + head + " (rebuild after committing: mvn package)");
        assertTrue(BuildInfo.version().matches("\\d+\\.\\d+\\.\\d+.*"), BuildInfo.version());
    }

    @Test
    void versionPrintsTheVersionAndTheCommit() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        int code;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            code = Main.execute("--version");
        } finally {
            System.setOut(saved);
        }
        assertEquals(0, code);
        assertEquals(BuildInfo.describe(), out.toString(StandardCharsets.UTF_8).trim());
        assertTrue(BuildInfo.describe().startsWith("headguard " + BuildInfo.version() + " (commit " + BuildInfo.commit() + ")"));
    }

    private static String git(String... args) throws IOException, InterruptedException {
        String[] cmd = new String[args.length + 1];
        cmd[0] = "git";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            return null;
        }
        String s = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0 ? s : null;
    }
}
