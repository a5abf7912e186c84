package dev.headguard;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Dependencies point one way: attacks work on examples and never touch a model; the model knows
 * nothing of training, attacks, detection, repair or the command line; the metrics ({@code eval})
 * know only models and data; the benchmarks ({@code bench}) and the Java API ({@code api}) see
 * everything but each other and the command line, and only the command line sees everything. Checked on the sources' imports and fully qualified references.
 */
class PackageDependencyTest {
    /** Package -> packages it must not use. */
    static final Map<String, List<String>> FORBIDDEN = Map.ofEntries(
            Map.entry("attack", List.of("model", "train", "detect", "eval", "inference", "bench", "api", "cli")),
            Map.entry("model", List.of("train", "attack", "detect", "eval", "inference", "repair", "report", "bench", "api", "cli")),
            Map.entry("text", List.of("model", "train", "attack", "detect", "eval", "inference", "repair", "report", "bench", "api", "cli")),
            Map.entry("train", List.of("attack", "detect", "eval", "repair", "report", "bench", "api", "cli")),
            Map.entry("detect", List.of("train", "attack", "eval", "repair", "bench", "api", "cli")),
            Map.entry("inference", List.of("train", "attack", "detect", "eval", "repair", "bench", "api", "cli")),
            Map.entry("eval", List.of("attack", "detect", "repair", "report", "bench", "api", "cli")),
            Map.entry("report", List.of("train", "attack", "eval", "bench", "api", "cli")),
            Map.entry("repair", List.of("attack", "eval", "bench", "api", "cli")),
            Map.entry("bench", List.of("api", "cli")),
            Map.entry("api", List.of("bench", "cli")));

    static final Pattern USE = Pattern.compile("dev\\.headguard\\.([a-z]+)[.;]");

    @Test
    void dependenciesPointOneWay() throws IOException {
        Path root = Path.of("src/main/java/dev/headguard");
        List<String> violations = new ArrayList<>();
        int checked = 0;
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String pkg = root.relativize(f).getName(0).toString();
                List<String> banned = FORBIDDEN.get(pkg);
                if (banned == null || f.getParent().equals(root)) {
                    continue;
                }
                checked++;
                Matcher m = USE.matcher(Files.readString(f));
                while (m.find()) {
                    if (banned.contains(m.group(1))) {
                        violations.add(root.relativize(f) + " uses dev.headguard." + m.group(1));
                    }
                }
            }
        }
        assertTrue(checked > 20, "the sources were found (" + checked + " files)");
        assertEquals(List.of(), violations);
    }

    /** Detect's sub-packages, each -> the detect packages it must not use ("" is detect itself, the entry points that combine them). */
    static final Map<String, List<String>> DETECT_FORBIDDEN = Map.of(
            "attention", List.of("", "search", "hidden", "baseline"),
            "search", List.of("", "hidden", "baseline"),
            "hidden", List.of("", "baseline"),
            "baseline", List.of("", "hidden"));

    static final Pattern DETECT_USE = Pattern.compile("dev\\.headguard\\.detect\\.(?:([a-z]+)\\.)?([A-Z]\\w*)");

    /** Detection's signals depend in one direction, attention <- search <- hidden, baselines beside; none sees the entry points. */
    @Test
    void detectSubPackagesPointOneWay() throws IOException {
        Path root = Path.of("src/main/java/dev/headguard/detect");
        List<String> violations = new ArrayList<>();
        int checked = 0;
        for (Map.Entry<String, List<String>> e : DETECT_FORBIDDEN.entrySet()) {
            try (Stream<Path> files = Files.list(root.resolve(e.getKey()))) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    checked++;
                    Matcher m = DETECT_USE.matcher(Files.readString(f));
                    while (m.find()) {
                        String used = m.group(1) == null ? "" : m.group(1);
                        if (e.getValue().contains(used)) {
                            violations.add("detect/" + e.getKey() + "/" + f.getFileName() + " uses " + m.group());
                        }
                    }
                }
            }
        }
        assertTrue(checked > 20, "the sources were found (" + checked + " files)");
        assertEquals(List.of(), violations);
    }

    /** A command is a shell over the API: it names another command only to register it as a subcommand ({@code X.class}). */
    @Test
    void noCommandReachesIntoAnother() throws IOException {
        Path cli = Path.of("src/main/java/dev/headguard/cli");
        List<String> commands;
        try (Stream<Path> files = Files.list(cli)) {
            commands = files.map(p -> p.getFileName().toString().replace(".java", ""))
                    .filter(n -> n.endsWith("Command") || n.startsWith("Bench")).toList();
        }
        assertTrue(commands.size() > 15, "the commands were found (" + commands + ")");
        List<String> violations = new ArrayList<>();
        for (String user : commands) {
            String text = Files.readString(cli.resolve(user + ".java"));
            for (String used : commands) {
                Matcher m = Pattern.compile("\\b" + used + "\\.(\\w+)").matcher(text);
                while (!used.equals(user) && m.find()) {
                    if (!m.group(1).equals("class")) {
                        violations.add(user + " uses " + m.group());
                    }
                }
            }
        }
        assertEquals(List.of(), violations);
    }

    /** The model reads like the equations and knows no file format: {@code model.io} sees {@code model}, never the reverse. */
    @Test
    void theModelDoesNotSeeItsReaders() throws IOException {
        List<String> violations = new ArrayList<>();
        try (Stream<Path> files = Files.list(Path.of("src/main/java/dev/headguard/model"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                if (Files.readString(f).contains("dev.headguard.model.io")) {
                    violations.add(f.getFileName().toString());
                }
            }
        }
        assertEquals(List.of(), violations);
    }
}
