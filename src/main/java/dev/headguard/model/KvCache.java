package dev.headguard.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;

/**
 * A decoder's keys and values of the tokens seen so far, per layer, so that generating a token
 * computes attention for the new token only. Owns its arrays; close it when the text is done.
 */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final NDArray[] keys;   // per layer (B, KV heads, seen, H)
    private final NDArray[] values; // per layer (B, KV heads, seen, H)
    private long length;

    public KvCache(NDManager parent, int layers) {
        this.manager = parent.newSubManager();
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
    }

    /** Tokens already cached: the position of the next one. */
    public long length() {
        return length;
    }

    NDArray keys(int layer) {
        return keys[layer];
    }

    NDArray values(int layer) {
        return values[layer];
    }

    /** Replaces a layer's keys and values with the longer ones a step computed. */
    void put(int layer, NDArray k, NDArray v) {
        for (NDArray a : new NDArray[] {k, v}) {
            NDScope.unregister(a);
            a.attach(manager);
        }
        if (keys[layer] != null) {
            keys[layer].close();
            values[layer].close();
        }
        keys[layer] = k;
        values[layer] = v;
    }

    void advance(long tokens) {
        length += tokens;
    }

    @Override
    public void close() {
        manager.close();
    }
}
