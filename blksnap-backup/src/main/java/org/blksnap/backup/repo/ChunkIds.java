package org.blksnap.backup.repo;

import java.util.Arrays;

/**
 * The chunk ids of one device image, in device order, as raw bytes: 32 per
 * chunk, all zero for a chunk that is all zero (not stored). One array, not
 * a list of objects, so a manifest of a 1 TiB device costs 128 MiB at 256 KiB
 * chunks and nothing more.
 */
public final class ChunkIds {
    private final byte[] raw;
    private final int count;

    /** @param count chunks, all zero until set */
    public ChunkIds(int count) {
        this(new byte[Math.multiplyExact(count, ChunkId.BYTES)]);
    }

    /** @param raw 32 bytes per chunk (kept, not copied) */
    ChunkIds(byte[] raw) {
        if (raw.length % ChunkId.BYTES != 0) {
            throw new IllegalArgumentException("not a whole number of chunk ids: " + raw.length + " bytes");
        }
        this.raw = raw;
        this.count = raw.length / ChunkId.BYTES;
    }

    /** @return chunks */
    public int size() {
        return count;
    }

    /**
     * @param i chunk index
     * @return its id, or null if the chunk is all zero
     */
    public ChunkId get(int i) {
        ChunkId id = ChunkId.read(raw, Math.multiplyExact(i, ChunkId.BYTES));
        return id.isZero() ? null : id;
    }

    /**
     * @param i  chunk index
     * @param id its id, or null for an all-zero chunk
     */
    public void set(int i, ChunkId id) {
        if (id == null) {
            Arrays.fill(raw, i * ChunkId.BYTES, (i + 1) * ChunkId.BYTES, (byte) 0);
        } else {
            id.write(raw, i * ChunkId.BYTES);
        }
    }

    /** @return the raw bytes (not copied) */
    byte[] raw() {
        return raw;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChunkIds other && Arrays.equals(raw, other.raw);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(raw);
    }
}
