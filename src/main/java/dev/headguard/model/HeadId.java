package dev.headguard.model;

/** One attention head: {@code layer} counts from 0 at the bottom, {@code head} from 0 within the layer. */
public record HeadId(int layer, int head) implements Comparable<HeadId> {
    public HeadId {
        if (layer < 0 || head < 0) {
            throw new IllegalArgumentException("layer and head must be non-negative: " + layer + "." + head);
        }
    }

    @Override
    public int compareTo(HeadId o) {
        return layer != o.layer ? Integer.compare(layer, o.layer) : Integer.compare(head, o.head);
    }

    @Override
    public String toString() {
        return "L" + layer + ".H" + head;
    }
}
