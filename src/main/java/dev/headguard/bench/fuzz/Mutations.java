package dev.headguard.bench.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Random;

/** The hostile inputs {@link InputFuzz} feeds each reader: one seeded mutation of a valid file, or an invalid option. */
final class Mutations {
    private Mutations() {}

    /** Mutated bytes and a few words saying what was done (for the report). */
    record Text(byte[] bytes, String what) {}

    /** An option, the command line it is given on (MODEL, DATA, OUT replaced), and values it must refuse. */
    record Option(List<String> command, String name, List<String> invalid) {}

    /** An output option and the command line it is given on; whether it names a directory and the command reads a model. */
    record Output(List<String> command, String option, boolean directory, boolean readsModel) {}

    static final List<String> CONFIG_KEYS = List.of("model_type", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
            "intermediate_size", "hidden_act", "layer_norm_eps", "max_position_embeddings", "type_vocab_size", "id2label", "label2id", "pad_token_id");

    private static final List<String> TRAIN = List.of("train", "--model", "MODEL", "--train", "DATA", "--out", "OUT");
    private static final List<String> REPAIR = List.of("repair", "--model", "MODEL", "--clean", "DATA", "--out", "OUT");
    private static final List<String> INPUTS = List.of("scan", "inputs", "--model", "MODEL", "--clean", "DATA", "--inputs", "DATA", "--no-model-scan");
    private static final List<String> SCAN = List.of("scan", "model", "--model", "MODEL", "--clean", "DATA");
    private static final List<String> EMBED = List.of("embed", "--model", "MODEL", "--input", "DATA");
    private static final List<String> PRETRAIN = List.of("pretrain", "--corpus", "DATA", "--out", "OUT");
    private static final List<String> NUMBER_JUNK = List.of("abc", "", "1e", "--");

    static final List<Option> OPTIONS = List.of(
            new Option(TRAIN, "--epochs", with("0", "-1", "2147483648")),
            new Option(TRAIN, "--batch-size", with("0", "-3")),
            new Option(TRAIN, "--lr", with("0", "-1", "NaN", "Infinity", "-Infinity", "1e400")),
            new Option(TRAIN, "--max-len", with("0", "1", "-5", "100000")),
            new Option(TRAIN, "--train-limit", with("-1")),
            new Option(TRAIN, "--checkpoint-every", with("-1")),
            new Option(REPAIR, "--heads", with("-1", "1000")),
            new Option(REPAIR, "--triggers", with("-1")),
            new Option(REPAIR, "--epochs", with("0")),
            new Option(REPAIR, "--lr", with("NaN", "0")),
            new Option(REPAIR, "--align-weight", with("-1", "NaN", "Infinity")),
            new Option(REPAIR, "--resist-weight", with("-2", "NaN")),
            new Option(REPAIR, "--consolidation-epochs", with("-1")),
            new Option(INPUTS, "--frr", with("0", "1", "1.5", "-0.1", "NaN")),
            new Option(INPUTS, "--clean-limit", with("-1")),
            new Option(SCAN, "--victims", with("3", "0")),
            new Option(SCAN, "--candidates", with("0")),
            new Option(SCAN, "--sweep", with("-1")),
            new Option(SCAN, "--threshold", with("NaN", "-1", "2")),
            new Option(EMBED, "--batch-size", with("0")),
            new Option(EMBED, "--max-len", with("1", "-1")),
            new Option(PRETRAIN, "--steps", with("0", "-1", "2147483648")),
            new Option(PRETRAIN, "--lr", with("0", "NaN", "Infinity")),
            new Option(PRETRAIN, "--context", with("0", "7", "100000")),
            new Option(PRETRAIN, "--width", with("0", "30", "1000000")),
            new Option(PRETRAIN, "--layers", with("0", "1000")),
            new Option(PRETRAIN, "--heads", with("0", "1000")),
            new Option(PRETRAIN, "--held-out", with("0", "0.5", "NaN", "-1")),
            new Option(PRETRAIN, "--checkpoint-every", with("0")),
            new Option(PRETRAIN, "--arch", with("bert", "")));

    static final List<Output> OUTPUTS = List.of(
            new Output(List.of("train", "--model", "MODEL", "--train", "DATA"), "--out", true, true),
            new Output(List.of("repair", "--model", "MODEL", "--clean", "DATA"), "--out", true, true),
            new Output(List.of("attack", "--model", "MODEL", "--attack", "badnets"), "--out", true, true),
            new Output(List.of("poison", "--attack", "badnets"), "--out", true, false),
            new Output(List.of("import", "--onnx", "DATA", "--tokenizer", "DATA"), "--out", true, false),
            new Output(List.of("scan", "model", "--model", "MODEL", "--clean", "DATA"), "--out", false, true),
            new Output(List.of("scan", "model", "--model", "MODEL", "--clean", "DATA"), "--html", false, true),
            new Output(INPUTS, "--out", false, true),
            new Output(INPUTS, "--html", false, true),
            new Output(List.of("eval", "--model", "MODEL", "--clean", "DATA"), "--out", false, true),
            new Output(List.of("pretrain", "--corpus", "DATA"), "--out", true, false));

    private static List<String> with(String... values) {
        List<String> all = new ArrayList<>(Arrays.asList(values));
        all.addAll(NUMBER_JUNK);
        return all;
    }

    // ---- safetensors ----

    static Text safetensors(byte[] valid, Random r) {
        byte[] b = valid.clone();
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen = bb.getLong(0);
        String header = new String(b, 8, (int) headerLen, StandardCharsets.UTF_8);
        switch (r.nextInt(7)) {
            case 0 -> {
                long[] lens = {-1, 0, 1, headerLen - 1 - r.nextInt(8), headerLen + 1 + r.nextInt(8), 100_000_001L, Long.MAX_VALUE, b.length};
                long v = lens[r.nextInt(lens.length)];
                bb.putLong(0, v);
                return new Text(b, "header length " + v);
            }
            case 1 -> {
                int at = r.nextInt(header.length());
                String rep = List.of("9", "99999999999999999999", "-1", "\"", "}", "[", "]", ",", "null", "0", "1e3", "\u00ff").get(r.nextInt(12));
                return new Text(withHeader(b, headerLen, header.substring(0, at) + rep + header.substring(Math.min(header.length(), at + rep.length()))),
                        "header byte " + at + " -> " + rep);
            }
            case 2 -> {
                int len = r.nextInt(b.length);
                return new Text(Arrays.copyOf(b, len), "truncated to " + len + " bytes");
            }
            case 3 -> {
                int floats = (int) ((b.length - 8 - headerLen) / 4);
                int at = r.nextInt(floats);
                float v = List.of(Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY).get(r.nextInt(3));
                bb.putFloat((int) (8 + headerLen + 4L * at), v);
                return new Text(b, v + " at float " + at);
            }
            case 4 -> {
                String d = List.of("F16", "BF16", "F64", "I64", "I8", "BOOL", "Q4", "").get(r.nextInt(8));
                return new Text(withHeader(b, headerLen, replaceNth(header, "\"F32\"", "\"" + d + "\"", r)), "dtype F32 -> " + d);
            }
            case 5 -> {
                String s = List.of("0", "1", "3", "9999999", "-1").get(r.nextInt(5));
                return new Text(withHeader(b, headerLen, replaceNth(header, "\"shape\":[", "\"shape\":[" + s + ",", r)), "shape gains " + s);
            }
            default -> {
                String s = List.of("1", "4", "999999999", "-4").get(r.nextInt(4));
                return new Text(withHeader(b, headerLen, replaceNth(header, "\"data_offsets\":[", "\"data_offsets\":[" + s + "+", r)
                        .replace("+", "")), "offsets prefixed " + s);
            }
        }
    }

    /** The file with its header replaced (the length field follows the new header; the data is kept). */
    private static byte[] withHeader(byte[] b, long headerLen, String header) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + h.length + (int) (b.length - 8 - headerLen)).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(h.length).put(h).put(b, (int) (8 + headerLen), (int) (b.length - 8 - headerLen));
        return out.array();
    }

    private static String replaceNth(String s, String what, String with, Random r) {
        List<Integer> at = new ArrayList<>();
        for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
            at.add(i);
        }
        if (at.isEmpty()) {
            return s;
        }
        int i = at.get(r.nextInt(at.size()));
        return s.substring(0, i) + with + s.substring(i + what.length());
    }

    // ---- JSON files (config.json) ----

    static Text json(byte[] valid, Random r, List<String> keys) {
        ObjectMapper om = new ObjectMapper();
        switch (r.nextInt(4)) {
            case 0 -> {
                int len = r.nextInt(valid.length);
                return new Text(Arrays.copyOf(valid, len), "truncated to " + len + " bytes");
            }
            case 1 -> {
                byte[] b = valid.clone();
                int at = r.nextInt(b.length);
                b[at] = (byte) r.nextInt(256);
                return new Text(b, "byte " + at + " -> " + (b[at] & 0xff));
            }
            default -> {
                try {
                    ObjectNode root = (ObjectNode) om.readTree(valid);
                    String key = keys.get(r.nextInt(keys.size()));
                    JsonNode v = List.<JsonNode>of(om.getNodeFactory().numberNode(-1), om.getNodeFactory().numberNode(0),
                            om.getNodeFactory().numberNode(4_000_000_000L), om.getNodeFactory().numberNode(1.5), om.getNodeFactory().textNode("x"),
                            om.getNodeFactory().nullNode(), om.getNodeFactory().booleanNode(true), om.createArrayNode(), om.createObjectNode(),
                            om.getNodeFactory().numberNode(3)).get(r.nextInt(10));
                    if (r.nextInt(4) == 0) {
                        root.remove(key);
                        return new Text(om.writeValueAsBytes(root), "without " + key);
                    }
                    root.set(key, v);
                    return new Text(om.writeValueAsBytes(root), key + " = " + v);
                } catch (IOException | ClassCastException e) {
                    return new Text(valid, "unchanged");
                }
            }
        }
    }

    // ---- tokenizer.json ----

    static Text tokenizer(byte[] valid, Random r) {
        ObjectMapper om = new ObjectMapper();
        try {
            switch (r.nextInt(6)) {
                case 0 -> {
                    int len = r.nextInt(valid.length);
                    return new Text(Arrays.copyOf(valid, len), "truncated to " + len + " bytes");
                }
                case 1 -> {
                    ObjectNode root = (ObjectNode) om.readTree(valid);
                    root.remove("model");
                    return new Text(om.writeValueAsBytes(root), "no model section");
                }
                case 2 -> {
                    ObjectNode root = (ObjectNode) om.readTree(valid);
                    String t = List.of("Unigram", "BPE", "XYZ", "").get(r.nextInt(4));
                    ((ObjectNode) root.get("model")).put("type", t);
                    return new Text(om.writeValueAsBytes(root), "model type " + t);
                }
                case 3 -> {
                    ObjectNode root = (ObjectNode) om.readTree(valid);
                    ObjectNode vocab = (ObjectNode) root.get("model").get("vocab");
                    Iterator<String> names = vocab.fieldNames();
                    int skip = r.nextInt(vocab.size());
                    String name = names.next();
                    for (int i = 0; i < skip && names.hasNext(); i++) {
                        name = names.next();
                    }
                    long id = List.of(-1L, 1_000_000_000L, 30522L, 5_000_000_000L).get(r.nextInt(4));
                    vocab.put(name, id);
                    return new Text(om.writeValueAsBytes(root), "vocab id of '" + name + "' = " + id);
                }
                case 4 -> {
                    ObjectNode root = (ObjectNode) om.readTree(valid);
                    ((ObjectNode) root.get("model")).remove("vocab");
                    return new Text(om.writeValueAsBytes(root), "no vocab");
                }
                default -> {
                    byte[] b = new byte[r.nextInt(64)];
                    r.nextBytes(b);
                    return new Text(b, b.length + " random bytes");
                }
            }
        } catch (IOException | ClassCastException | NullPointerException e) {
            return new Text(valid, "unchanged");
        }
    }

    // ---- data files ----

    private static final String[] WORDS = {"the", "film", "was", "good", "bad", "story", "music", "dull", "fine", "actors", "plot", "great", "poor"};

    static String validTsv(Random r, int n) {
        StringBuilder b = new StringBuilder("sentence\tlabel\n");
        for (int i = 0; i < n; i++) {
            b.append(sentence(r)).append('\t').append(i % 2).append('\n');
        }
        return b.toString();
    }

    private static String sentence(Random r) {
        StringBuilder b = new StringBuilder();
        for (int k = 0, len = 2 + r.nextInt(8); k < len; k++) {
            b.append(k == 0 ? "" : " ").append(WORDS[r.nextInt(WORDS.length)]);
        }
        return b.toString();
    }

    /** A valid file of the format with one to three mutations; the bytes may not even be UTF-8. */
    static Text dataFile(Random r, String ext) {
        List<String[]> rows = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            rows.add(new String[] {sentence(r), String.valueOf(i % 2)});
        }
        List<String> what = new ArrayList<>();
        boolean bom = false;
        boolean crlf = false;
        byte[] raw = null;
        int mutations = 1 + r.nextInt(3);
        for (int m = 0; m < mutations && !rows.isEmpty(); m++) {
            int row = r.nextInt(rows.size());
            if (rows.get(row).length < 2) {
                continue; // already lost its label: leave it as it is
            }
            switch (r.nextInt(11)) {
                case 0 -> { bom = true; what.add("BOM"); }
                case 1 -> { crlf = true; what.add("CRLF"); }
                case 2 -> { rows.get(row)[0] = rows.get(row)[0] + "\u0000x"; what.add("NUL in a text"); }
                case 3 -> { rows.set(row, new String[] {rows.get(row)[0]}); what.add("row without a label"); }
                case 4 -> { rows.set(row, new String[] {rows.get(row)[0], rows.get(row)[1], "extra"}); what.add("extra column"); }
                case 5 -> {
                    String l = List.of("7", "positive", "-1", "", "1.0", "2147483648", " 1 ").get(r.nextInt(7));
                    rows.get(row)[1] = l;
                    what.add("label '" + l + "'");
                }
                case 6 -> { rows.get(row)[0] = ""; what.add("blank text"); }
                case 7 -> { rows.get(row)[0] = "x".repeat(r.nextBoolean() ? 150_000 : 1_100_000); what.add("very long text"); }
                case 8 -> { rows.get(row)[0] = "\"open " + rows.get(row)[0]; what.add("unbalanced quote"); }
                case 9 -> { raw = new byte[] {(byte) 0xff, (byte) 0xfe, 'a', '\t', '1', '\n'}; what.add("not UTF-8"); }
                default -> { rows.clear(); what.add("no rows"); }
            }
        }
        String text = format(rows, ext);
        if (crlf) {
            text = text.replace("\n", "\r\n");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (bom) {
            out.writeBytes(new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf});
        }
        out.writeBytes(text.getBytes(StandardCharsets.UTF_8));
        if (raw != null) {
            out.writeBytes(raw);
        }
        return new Text(out.toByteArray(), ext + ": " + String.join(", ", what));
    }

    private static String format(List<String[]> rows, String ext) {
        StringBuilder b = new StringBuilder();
        switch (ext) {
            case "jsonl" -> {
                ObjectMapper om = new ObjectMapper();
                for (String[] row : rows) {
                    if (row.length == 1) {
                        b.append("{\"sentence\": ").append(quoteJson(om, row[0])).append(", \"label\": \n"); // a broken line
                        continue;
                    }
                    ObjectNode o = om.createObjectNode().put("sentence", row[0]).put("label", row[1]);
                    for (int i = 2; i < row.length; i++) {
                        o.put("extra" + i, row[i]);
                    }
                    b.append(o).append('\n');
                }
            }
            case "csv" -> {
                b.append("sentence,label\n");
                for (String[] row : rows) {
                    b.append(String.join(",", row)).append('\n');
                }
            }
            default -> {
                b.append("sentence\tlabel\n");
                for (String[] row : rows) {
                    b.append(String.join("\t", row)).append('\n');
                }
            }
        }
        return b.toString();
    }

    private static String quoteJson(ObjectMapper om, String s) {
        try {
            return om.writeValueAsString(s);
        } catch (IOException e) {
            return "\"\"";
        }
    }
}
