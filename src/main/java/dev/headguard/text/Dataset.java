package dev.headguard.text;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Labelled examples with the names of their classes, and what reading them skipped.
 *
 * @param examples   in file order
 * @param labelNames class names by id (for integer labels: "0", "1", ...)
 * @param skipped    rows the reader skipped (only under {@link DatasetReader.OnBadRow#SKIP}), each "line N: why"
 */
public record Dataset(List<Example> examples, List<String> labelNames, List<String> skipped) {
    public Dataset {
        examples = List.copyOf(examples);
        labelNames = List.copyOf(labelNames);
        skipped = List.copyOf(skipped);
    }

    public int size() {
        return examples.size();
    }

    public int numLabels() {
        return labelNames.size();
    }

    public List<String> texts() {
        return examples.stream().map(Example::text).toList();
    }

    public int[] labels() {
        return examples.stream().mapToInt(Example::label).toArray();
    }

    public Dataset withExamples(List<Example> ex) {
        return new Dataset(ex, labelNames, skipped);
    }

    /** A seeded random subset of {@code n} examples, in file order (all when n >= size). */
    public Dataset sample(int n, long seed) {
        return n >= size() ? this : withExamples(sampled(examples, n, seed));
    }

    /** A seeded random {@code n} of the rows, in their order (all of them when there are no more). */
    public static <T> List<T> sampled(List<T> rows, int n, long seed) {
        if (n >= rows.size()) {
            return rows;
        }
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            idx.add(i);
        }
        Collections.shuffle(idx, new Random(seed));
        List<Integer> keep = new ArrayList<>(idx.subList(0, n));
        Collections.sort(keep);
        return keep.stream().map(rows::get).toList();
    }

    /** Splits off a seeded random {@code fraction} as the second part: (rest, held out). */
    public List<Dataset> split(double fraction, long seed) {
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < size(); i++) {
            idx.add(i);
        }
        Collections.shuffle(idx, new Random(seed));
        int held = (int) Math.round(size() * fraction);
        List<Integer> out = new ArrayList<>(idx.subList(0, held));
        List<Integer> in = new ArrayList<>(idx.subList(held, idx.size()));
        Collections.sort(out);
        Collections.sort(in);
        return List.of(withExamples(in.stream().map(examples::get).toList()), withExamples(out.stream().map(examples::get).toList()));
    }
}
