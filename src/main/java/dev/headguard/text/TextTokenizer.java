package dev.headguard.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.headguard.HeadGuardException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A HuggingFace {@code tokenizer.json} (through DJL's native tokenizers) that truncates to a
 * maximum length and pads batches itself, to the longest text, with the vocabulary's pad id.
 * Padding is ours rather than the file's because some files fix it at 128 tokens, which would
 * cost every short batch a full-length forward pass.
 */
public final class TextTokenizer implements AutoCloseable {
    private final HuggingFaceTokenizer tokenizer;
    private final Path file;
    private final int maxLength;
    private final long padId;
    private final int idLimit;

    /** Whether the vocabulary is WordPiece's (entries are words and ##pieces). */
    private final boolean wordPiece;

    /** The special tokens around a text's own: how many lead, and those that trail (see {@link #leadingSpecials}). */
    private final int lead;
    private final long[] trail;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, Path file, int maxLength, long padId, int idLimit, boolean wordPiece) {
        this.wordPiece = wordPiece;
        this.tokenizer = tokenizer;
        this.file = file;
        this.maxLength = maxLength;
        this.padId = padId;
        this.idLimit = idLimit;
        long[] empty = ids("");
        long[] one = ids("a");
        int n = 0;
        while (n < empty.length && n < one.length && empty[n] == one[n]) {
            n++;
        }
        this.lead = n;
        this.trail = java.util.Arrays.copyOfRange(empty, n, empty.length);
    }

    /**
     * Opens a tokenizer file.
     *
     * @param maxLength longest sequence in tokens, special tokens included (longer texts are truncated)
     */
    public static TextTokenizer open(Path file, int maxLength) {
        if (!Files.isRegularFile(file)) {
            throw new HeadGuardException(file + ": file not found");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new HeadGuardException(file + ": not a valid tokenizer.json (" + HeadGuardException.brief(e.getMessage()) + ")");
        }
        if (root == null || !root.has("model")) {
            throw new HeadGuardException(file + ": not a HuggingFace tokenizer.json (no 'model' section)");
        }
        int limit = idLimit(root);
        long pad = padId(root);
        try {
            HuggingFaceTokenizer t = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(file)
                    .optMaxLength(maxLength)
                    .optTruncation(true)
                    .optPadding(false)
                    .optAddSpecialTokens(true)
                    .build();
            return new TextTokenizer(t, file, maxLength, pad, limit, root.path("model").path("type").asText("").equals("WordPiece"));
        } catch (IOException | RuntimeException e) {
            throw new HeadGuardException(file + ": the tokenizer library rejected it (" + String.valueOf(e.getMessage()).split("\n")[0] + ")");
        }
    }

    /** One more than the largest token id the file can produce: must not exceed the model's vocab_size. */
    public int idLimit() {
        return idLimit;
    }

    public int maxLength() {
        return maxLength;
    }

    public Path file() {
        return file;
    }

    public long padId() {
        return padId;
    }

    /**
     * Token strings by id, from the file's vocabulary and added tokens (null where an id has no
     * entry).
     */
    public String[] vocabulary() {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new HeadGuardException(file + ": cannot be read again (" + HeadGuardException.brief(e.getMessage()) + ")");
        }
        String[] out = new String[idLimit];
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {
            vocab.fields().forEachRemaining(e -> put(out, e.getValue().asLong(-1), e.getKey()));
        } else if (vocab.isArray()) { // Unigram: [[piece, score], ...] in id order
            for (int i = 0; i < vocab.size(); i++) {
                put(out, i, vocab.get(i).path(0).asText());
            }
        }
        for (JsonNode t : root.path("added_tokens")) {
            put(out, t.path("id").asLong(-1), t.path("content").asText());
        }
        return out;
    }

    /** The id of {@code token} in a {@link #vocabulary()}, or −1 when it has none. */
    public static int idIn(String[] vocabulary, String token) {
        for (int v = 0; v < vocabulary.length; v++) {
            if (token.equals(vocabulary[v])) {
                return v;
            }
        }
        return -1;
    }

    /**
     * The vocabulary as words a trigger search can insert into a text: WordPiece's entries as they are
     * (its word pieces start with ##), other vocabularies' through {@link #wordForms}.
     */
    public String[] words() {
        String[] raw = vocabulary();
        return wordPiece ? raw : wordForms(raw);
    }

    /**
     * Pieces that continue a word, as the text glued to a word's end to make them ({@code ##za} gives
     * {@code za}: {@code m} + {@code za} + {@code f} is "mzaf"); null for every other entry. Letters and
     * digits only. For byte-level BPE and SentencePiece the entries without the word-start mark.
     */
    public String[] wordEndings() {
        String[] raw = vocabulary();
        String[] out = new String[raw.length];
        for (int v = 0; v < raw.length; v++) {
            String t = raw[v];
            if (t == null) {
                continue;
            }
            String ending = wordPiece ? (t.startsWith("##") ? t.substring(2) : null)
                    : (t.startsWith("\u0120") || t.startsWith("\u2581") || t.startsWith("<") || t.startsWith("[") ? null : t);
            if (ending != null && !ending.isEmpty() && ending.codePoints().allMatch(Character::isLetterOrDigit)) {
                out[v] = ending;
            }
        }
        return out;
    }

    /**
     * For byte-level BPE and SentencePiece vocabularies, whose entries are not words ({@code Ġmovie},
     * {@code ▁movie}): each token as the word that, put in a text after a space, becomes exactly that
     * token ({@code movie}); null for pieces no word becomes (word endings, byte fragments, specials).
     */
    private String[] wordForms(String[] raw) {
        long[] prefix = content(ids("a"));
        String[] out = new String[raw.length];
        List<Integer> tried = new java.util.ArrayList<>();
        List<String> texts = new java.util.ArrayList<>();
        for (int v = 0; v < raw.length; v++) {
            if (raw[v] == null) {
                continue;
            }
            String w = tokenizer.decode(new long[] {v}, true).strip();
            if (!w.isEmpty() && !w.contains(" ")) {
                tried.add(v);
                texts.add(w);
            }
        }
        List<long[]> encoded = idsOf(texts.stream().map(w -> "a " + w).toList());
        for (int k = 0; k < tried.size(); k++) {
            long[] ids = content(encoded.get(k));
            int v = tried.get(k);
            if (ids.length == prefix.length + 1 && ids[ids.length - 1] == v && java.util.Arrays.equals(prefix, java.util.Arrays.copyOf(ids, prefix.length))) {
                out[v] = texts.get(k);
            }
        }
        return out;
    }

    /** A text's ids without the special tokens the tokenizer adds around it. */
    private long[] content(long[] ids) {
        return java.util.Arrays.copyOfRange(ids, Math.min(lead, ids.length), Math.max(lead, ids.length - trail.length));
    }

    private static void put(String[] out, long id, String token) {
        if (id >= 0 && id < out.length) {
            out[(int) id] = token;
        }
    }

    /** Token ids of many texts, special tokens included, truncated; no padding. */
    public java.util.List<long[]> idsOf(List<String> texts) {
        java.util.List<long[]> out = new java.util.ArrayList<>(texts.size());
        for (int i = 0; i < texts.size(); i += 256) {
            for (Encoding e : tokenizer.batchEncode(texts.subList(i, Math.min(texts.size(), i + 256)))) {
                out.add(e.getIds());
            }
        }
        return out;
    }

    /** Token ids of one text, special tokens included, truncated. */
    public long[] ids(String text) {
        return tokenizer.encode(text).getIds();
    }

    /** The text of token ids (special tokens skipped), as the tokenizer's decoder writes it. */
    public String decode(long[] ids) {
        return tokenizer.decode(ids, true);
    }

    /**
     * How many special tokens the tokenizer puts before a text's own ([CLS], &lt;s&gt;: 1; GPT-2's: 0).
     * An inserted token goes after them.
     */
    public int leadingSpecials() {
        return lead;
    }

    /** The special tokens the tokenizer puts after a text's own ([SEP], &lt;/s&gt;; none for the decoders). */
    public long[] trailingSpecials() {
        return trail.clone();
    }

    /** The token strings of one text, for reports. */
    public List<String> tokens(String text) {
        return List.of(tokenizer.encode(text).getTokens());
    }

    /** Encodes texts and pads them to the longest. */
    public TokenBatch encode(List<String> texts) {
        if (texts.isEmpty()) {
            throw new IllegalArgumentException("empty batch");
        }
        Encoding[] enc = tokenizer.batchEncode(texts);
        int t = 0;
        for (Encoding e : enc) {
            t = Math.max(t, e.getIds().length);
        }
        int b = enc.length;
        long[] ids = new long[b * t];
        long[] mask = new long[b * t];
        long[] types = new long[b * t];
        int[] lengths = new int[b];
        java.util.Arrays.fill(ids, padId);
        for (int i = 0; i < b; i++) {
            long[] x = enc[i].getIds();
            long[] y = enc[i].getTypeIds();
            lengths[i] = x.length;
            System.arraycopy(x, 0, ids, i * t, x.length);
            System.arraycopy(y, 0, types, i * t, y.length);
            java.util.Arrays.fill(mask, i * t, i * t + x.length, 1L);
        }
        return new TokenBatch(ids, mask, types, lengths, b, t);
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    private static int idLimit(JsonNode root) {
        long max = -1;
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {               // WordPiece, BPE: {token: id}
            for (JsonNode id : (Iterable<JsonNode>) vocab::elements) {
                max = Math.max(max, id.asLong());
            }
        } else if (vocab.isArray()) {         // Unigram: [[piece, score], ...]
            max = vocab.size() - 1;
        }
        for (JsonNode t : root.path("added_tokens")) {
            max = Math.max(max, t.path("id").asLong());
        }
        return (int) Math.min(Integer.MAX_VALUE, max + 1);
    }

    private static long padId(JsonNode root) {
        JsonNode padding = root.get("padding");
        if (padding != null && padding.has("pad_id")) {
            return padding.get("pad_id").asLong();
        }
        for (JsonNode t : root.path("added_tokens")) {
            if (t.path("content").asText().equals("[PAD]") || t.path("content").asText().equals("<pad>")) {
                return t.path("id").asLong();
            }
        }
        return 0;
    }
}
