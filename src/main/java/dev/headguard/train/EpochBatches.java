package dev.headguard.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/** The order in which an epoch visits its training rows, in batches of rows of similar length. */
final class EpochBatches {
    private EpochBatches() {}

    /** Sequences per length bucket, in batches: within a bucket, batches hold texts of similar length. */
    static final int BUCKET_BATCHES = 50;

    /**
     * The batches of one epoch: a seeded shuffle, then buckets of {@value #BUCKET_BATCHES} batches
     * sorted by length (little padding), then the batches themselves shuffled.
     */
    static List<int[]> of(List<long[]> train, int batchSize, long seed, int epoch) {
        Random rng = new Random(seed * 31 + epoch);
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < train.size(); i++) {
            idx.add(i);
        }
        Collections.shuffle(idx, rng);
        int b = batchSize;
        List<int[]> batches = new ArrayList<>();
        for (int from = 0; from < idx.size(); from += b * BUCKET_BATCHES) {
            List<Integer> bucket = new ArrayList<>(idx.subList(from, Math.min(idx.size(), from + b * BUCKET_BATCHES)));
            bucket.sort(Comparator.comparingInt(i -> train.get(i).length));
            for (int k = 0; k < bucket.size(); k += b) {
                batches.add(bucket.subList(k, Math.min(bucket.size(), k + b)).stream().mapToInt(Integer::intValue).toArray());
            }
        }
        Collections.shuffle(batches, rng);
        return batches;
    }
}
