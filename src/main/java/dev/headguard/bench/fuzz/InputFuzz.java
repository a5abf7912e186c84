package dev.headguard.bench.fuzz;

import dev.headguard.model.ModelConfig;
import dev.headguard.model.io.ModelStore;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.stream.Stream;

/**
 * Generates corrupt and hostile inputs for every reader the command line has (weights, config,
 * tokenizer, data files, numeric options, output paths), runs the command in-process, and checks the
 * bad-input contract on each: exit 0 (the mutation was harmless) or exit 2 with exactly one short
 * stderr line naming the file or option, never a stack trace or exit 1; on a refusal nothing is left
 * behind; the inputs are never modified; each case within a time bound.
 */
public final class InputFuzz {
    /** One generated case: which reader it aims at, what was done, the command line, and the folder it may write in. */
    record Case(String reader, String what, List<String> args, String mustName, boolean mustRefuse) {}

    /** Per reader: cases run, accepted (exit 0), refused (exit 2); and every violation of the contract. */
    public record Report(Map<String, int[]> counts, List<String> violations, double seconds) {
        public String table() {
            StringBuilder sb = new StringBuilder(String.format("%-12s %6s %9s %8s%n", "reader", "cases", "accepted", "refused"));
            counts.forEach((r, c) -> sb.append(String.format("%-12s %6d %9d %8d%n", r, c[0], c[1], c[2])));
            sb.append(String.format("violations: %d; %.1f s%n", violations.size(), seconds));
            violations.stream().limit(20).forEach(v -> sb.append("  ").append(v).append('\n'));
            return sb.toString();
        }
    }

    static final long CASE_SECONDS = 30;
    private static final int MAX_LINE = 400;

    private final Path work;
    private final CommandLine cli;
    private final Random random;
    private final Path model;
    private final Path data;

    private InputFuzz(Path work, long seed, CommandLine cli) throws IOException {
        this.work = work;
        this.cli = cli;
        this.random = new Random(seed);
        ModelConfig c = ModelConfig.tiny(30522, 2, 2, 8, 2);
        Path tokenizer = work.resolve("tokenizer-src").resolve(ModelStore.TOKENIZER);
        Files.createDirectories(tokenizer.getParent());
        try (InputStream in = InputFuzz.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            if (in == null) {
                throw new IOException("the MiniLM tokenizer is not on the class path");
            }
            Files.copy(in, tokenizer);
        }
        this.model = work.resolve("model");
        ModelStore.write(c, dev.headguard.model.ParameterTable.initialWeights(c, Map.of(), seed), tokenizer, model, Map.of("fixture", "fuzz"));
        this.data = Files.writeString(work.resolve("data.tsv"), Mutations.validTsv(new Random(seed), 24));
    }

    /**
     * Runs {@code perReader} cases for each reader from {@code seed}, in {@code work} (an empty folder).
     */
    public static Report run(Path work, long seed, int perReader, CommandLine cli) throws IOException {
        long t0 = System.nanoTime();
        InputFuzz f = new InputFuzz(work, seed, cli);
        Map<String, int[]> counts = new TreeMap<>();
        List<String> violations = new ArrayList<>();
        Map<String, BiFunction<InputFuzz, Integer, Case>> readers = new LinkedHashMap<>();
        readers.put("safetensors", InputFuzz::weightsCase);
        readers.put("config", InputFuzz::configCase);
        readers.put("tokenizer", InputFuzz::tokenizerCase);
        readers.put("pickle", InputFuzz::pickleCase);
        readers.put("data", InputFuzz::dataCase);
        readers.put("options", InputFuzz::optionCase);
        readers.put("outputs", InputFuzz::outputCase);
        for (var r : readers.entrySet()) {
            int[] c = counts.computeIfAbsent(r.getKey(), k -> new int[3]);
            for (int i = 0; i < perReader; i++) {
                Case k = r.getValue().apply(f, i);
                String v = f.check(k, c);
                if (v != null) {
                    violations.add(r.getKey() + " #" + i + " (" + k.what() + "): " + v);
                }
                f.cleanCase(i);
            }
        }
        return new Report(counts, violations, (System.nanoTime() - t0) / 1e9);
    }

    /** Runs one case and returns what broke the contract, or null. */
    private String check(Case k, int[] counts) {
        Map<String, String> before;
        try {
            before = snapshot(work);
        } catch (IOException e) {
            return "cannot list the work folder: " + e.getMessage();
        }
        long t0 = System.nanoTime();
        Run r = execute(k.args());
        double seconds = (System.nanoTime() - t0) / 1e9;
        counts[0]++;
        String problem = null;
        if (r.code == 0) {
            counts[1]++;
            if (k.mustRefuse()) {
                problem = "accepted (exit 0), must be refused";
            }
        } else if (r.code == 2) {
            counts[2]++;
            // notes and warnings (skipped rows, an unfinished model) may precede the one line of the refusal
            String[] lines = java.util.Arrays.stream(r.err.strip().split("\n"))
                    .filter(l -> !l.startsWith("note:") && !l.startsWith("warning:"))
                    .toArray(String[]::new);
            if (lines.length != 1) {
                problem = lines.length + " stderr lines: " + brief(r.err);
            } else if (!lines[0].startsWith("headguard: ") || r.err.contains("Exception") || r.err.contains("\tat ")) {
                problem = "not a one-line message: " + brief(lines[0]);
            } else if (lines[0].length() > MAX_LINE) {
                problem = lines[0].length() + " characters on the line";
            } else if (k.mustName() != null && !lines[0].contains(k.mustName())) {
                problem = "does not name " + k.mustName() + ": " + brief(lines[0]);
            }
        } else {
            problem = "exit " + r.code + ": " + brief(r.err);
        }
        if (seconds > CASE_SECONDS) {
            problem = (problem == null ? "" : problem + "; ") + String.format("took %.0f s", seconds);
        }
        try {
            Map<String, String> after = snapshot(work);
            for (var e : before.entrySet()) {
                if (!e.getValue().equals(after.get(e.getKey()))) {
                    problem = (problem == null ? "" : problem + "; ") + "input changed or removed: " + e.getKey();
                }
            }
            for (String p : after.keySet()) {
                if (!before.containsKey(p)) {
                    if (r.code != 0) {
                        problem = (problem == null ? "" : problem + "; ") + "left behind on refusal: " + p;
                    }
                    ModelStore.deleteRecursively(work.resolve(p)); // an accepted case's output: the next case starts clean
                }
            }
            try (Stream<Path> s = Files.list(work)) { // and its output folders
                for (Path p : s.filter(p -> p.getFileName().toString().startsWith("out")).toList()) {
                    ModelStore.deleteRecursively(p);
                }
            }
        } catch (IOException e) {
            problem = (problem == null ? "" : problem + "; ") + "cannot list the work folder";
        }
        return problem;
    }

    /** A case's own copies are deleted after it, so each case hashes a small folder. */
    private void cleanCase(int i) {
        ModelStore.deleteRecursively(work.resolve("model-" + i));
        try (Stream<Path> s = Files.list(work)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith("data-" + i + ".")).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // best effort: a leftover only costs hashing time
        }
    }

    // ---- cases ----

    private Case weightsCase(int i) {
        Path dir = caseModel(i);
        Path file = dir.resolve(ModelStore.WEIGHTS);
        String what = rewrite(file, b -> Mutations.safetensors(b, random));
        return new Case("safetensors", what, evalArgs(dir, data), "model.safetensors", false);
    }

    private Case configCase(int i) {
        Path dir = caseModel(i);
        Path file = dir.resolve(ModelStore.CONFIG);
        String what = rewrite(file, b -> Mutations.json(b, random, Mutations.CONFIG_KEYS));
        return new Case("config", what, evalArgs(dir, data), "config.json", false);
    }

    /** pytorch_model.bin instead of model.safetensors: the state dict broken or made hostile (TorchZips). */
    private Case pickleCase(int i) {
        Path dir = caseModel(i);
        try {
            var entries = dev.headguard.model.io.TorchCheckpoint.entries(dev.headguard.model.io.SafeTensors.read(dir.resolve(ModelStore.WEIGHTS)).tensors());
            Files.delete(dir.resolve(ModelStore.WEIGHTS));
            Mutations.Text t = random.nextInt(8) == 0 ? new Mutations.Text(dev.headguard.model.io.TorchCheckpoint.zip(entries), "valid") : TorchZips.mutate(entries, random);
            write(dir.resolve("pytorch_model.bin"), t.bytes());
            return new Case("pickle", t.what(), evalArgs(dir, data), "pytorch_model.bin", false);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private Case tokenizerCase(int i) {
        Path dir = caseModel(i);
        Path file = dir.resolve(ModelStore.TOKENIZER);
        String what = rewrite(file, b -> Mutations.tokenizer(b, random));
        return new Case("tokenizer", what, evalArgs(dir, data), null, false);
    }

    private Case dataCase(int i) {
        String ext = List.of("tsv", "csv", "jsonl").get(random.nextInt(3));
        Path file = work.resolve("data-" + i + "." + ext);
        Mutations.Text t = Mutations.dataFile(random, ext);
        write(file, t.bytes());
        List<String> args = new ArrayList<>(random.nextInt(3) == 0
                ? List.of("train", "--model", model.toString(), "--train", file.toString(), "--out", work.resolve("out-" + i).toString(), "--epochs", "1",
                "--batch-size", "8")
                : evalArgs(model, file));
        if (random.nextBoolean()) {
            args.add("--skip-bad-rows");
        }
        return new Case("data", t.what(), args, file.getFileName().toString(), false);
    }

    private Case optionCase(int i) {
        Mutations.Option o = Mutations.OPTIONS.get(random.nextInt(Mutations.OPTIONS.size()));
        String value = o.invalid().get(random.nextInt(o.invalid().size()));
        List<String> args = new ArrayList<>();
        for (String a : o.command()) {
            args.add(a.replace("MODEL", model.toString()).replace("DATA", data.toString()).replace("OUT", work.resolve("out-" + i).toString()));
        }
        args.add(o.name());
        args.add(value);
        return new Case("options", o.name() + " " + value, args, o.name(), true);
    }

    private Case outputCase(int i) {
        Mutations.Output o = Mutations.OUTPUTS.get(random.nextInt(Mutations.OUTPUTS.size()));
        Path busy = work.resolve("busy");
        write(busy.resolve("notes.txt"), "not a model".getBytes(StandardCharsets.UTF_8));
        String path = switch (random.nextInt(5)) {
            case 0 -> "/";
            case 1 -> data.resolve("under-a-file").toString();
            case 2 -> "/proc/headguard-fuzz";
            case 3 -> o.directory() ? busy.toString() : work.toString();
            default -> o.directory() && o.readsModel() ? model.toString() : busy.toString();
        };
        List<String> args = new ArrayList<>();
        for (String a : o.command()) {
            args.add(a.replace("MODEL", model.toString()).replace("DATA", data.toString()));
        }
        args.add(o.option());
        args.add(path);
        return new Case("outputs", o.option() + " " + path, args, o.option(), true);
    }

    // ---- helpers ----

    private static List<String> evalArgs(Path model, Path file) {
        return new ArrayList<>(List.of("eval", "--model", model.toString(), "--clean", file.toString()));
    }

    /** A fresh copy of the valid tiny model for one case. */
    private Path caseModel(int i) {
        Path dir = work.resolve("model-" + i);
        try {
            Files.createDirectories(dir);
            for (String f : List.of(ModelStore.CONFIG, ModelStore.WEIGHTS, ModelStore.TOKENIZER)) {
                Files.copy(model.resolve(f), dir.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return dir;
    }

    private static String rewrite(Path file, java.util.function.Function<byte[], Mutations.Text> mutate) {
        try {
            Mutations.Text t = mutate.apply(Files.readAllBytes(file));
            Files.write(file, t.bytes());
            return t.what();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void write(Path file, byte[] bytes) {
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, bytes);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A command line's exit code and what it printed. */
    public record Run(int code, String out, String err) {}

    /** Runs one command line in this process (the harness is given {@code headguard}'s, so it needs no command-line code of its own). */
    public interface CommandLine {
        Run run(String... args);
    }

    private Run execute(List<String> args) {
        try {
            return cli.run(args.toArray(String[]::new));
        } catch (RuntimeException e) {
            return new Run(1, "", "escaped: " + e);
        }
    }

    /** Every file under {@code dir} (relative path → SHA-256). */
    private static Map<String, String> snapshot(Path dir) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                m.put(dir.relativize(p).toString(), dev.headguard.Sha256.hex(p));
            }
        }
        return m;
    }

    private static String brief(String s) {
        String one = s.strip().replace('\n', '|');
        return one.length() <= 160 ? one : one.substring(0, 157) + "...";
    }
}
