package dev.headguard.text;

/** One labelled text. {@code label} is a class id, 0..K-1. */
public record Example(String text, int label) {
    public Example {
        if (text == null) {
            throw new IllegalArgumentException("null text");
        }
        if (label < 0) {
            throw new IllegalArgumentException("negative label " + label);
        }
    }
}
