package io.ragline.embeddings.tokenizer;

import java.util.Arrays;

/**
 * The vocabulary as a trie over code points, so WordPiece's longest-match-first search walks each
 * character once and allocates nothing. Edges live in one open-addressing table keyed by
 * {@code (node, codePoint)}.
 */
final class VocabTrie {
    static final int NONE = -1;
    private static final int ROOT = 0;

    private long[] keys;
    private int[] children;
    private int mask;
    private int edges;
    private int[] tokenIds = new int[1024];
    private int nodes = 1;

    VocabTrie(int expectedChars) {
        int capacity = Integer.highestOneBit(Math.max(16, expectedChars * 2)) << 1;
        keys = new long[capacity];
        children = new int[capacity];
        Arrays.fill(keys, -1L);
        mask = capacity - 1;
        Arrays.fill(tokenIds, NONE);
    }

    int root() {
        return ROOT;
    }

    /** Adds {@code token} with {@code id}; a later duplicate keeps the first id, as HuggingFace does. */
    void add(String token, int id) {
        int node = walkOrCreate(ROOT, token);
        if (tokenIds[node] == NONE) {
            tokenIds[node] = id;
        }
    }

    /** The node reached from {@code node} by {@code prefix}, created if missing. */
    int walkOrCreate(int node, String prefix) {
        int n = node;
        for (int i = 0; i < prefix.length(); ) {
            int cp = prefix.codePointAt(i);
            i += Character.charCount(cp);
            int next = child(n, cp);
            if (next == NONE) {
                next = newNode();
                put(n, cp, next);
            }
            n = next;
        }
        return n;
    }

    int child(int node, int codePoint) {
        long key = ((long) node << 21) | codePoint;
        int slot = hash(key) & mask;
        while (true) {
            long k = keys[slot];
            if (k == key) {
                return children[slot];
            }
            if (k == -1L) {
                return NONE;
            }
            slot = (slot + 1) & mask;
        }
    }

    /** The token id ending at {@code node}, or {@link #NONE}. */
    int tokenId(int node) {
        return tokenIds[node];
    }

    private int newNode() {
        if (nodes == tokenIds.length) {
            int old = tokenIds.length;
            tokenIds = Arrays.copyOf(tokenIds, old * 2);
            Arrays.fill(tokenIds, old, tokenIds.length, NONE);
        }
        return nodes++;
    }

    private void put(int node, int codePoint, int child) {
        if ((edges + 1) * 2 > keys.length) {
            grow();
        }
        long key = ((long) node << 21) | codePoint;
        int slot = hash(key) & mask;
        while (keys[slot] != -1L) {
            slot = (slot + 1) & mask;
        }
        keys[slot] = key;
        children[slot] = child;
        edges++;
    }

    private void grow() {
        long[] oldKeys = keys;
        int[] oldChildren = children;
        keys = new long[oldKeys.length * 2];
        children = new int[oldKeys.length * 2];
        Arrays.fill(keys, -1L);
        mask = keys.length - 1;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != -1L) {
                int slot = hash(oldKeys[i]) & mask;
                while (keys[slot] != -1L) {
                    slot = (slot + 1) & mask;
                }
                keys[slot] = oldKeys[i];
                children[slot] = oldChildren[i];
            }
        }
    }

    private static int hash(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32));
    }
}
