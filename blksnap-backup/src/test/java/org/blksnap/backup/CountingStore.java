package org.blksnap.backup;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;

import org.blksnap.backup.repo.ChunkStore;

/**
 * A real store, with reads of packs and manifests counted: what a test of
 * the read pattern needs. Whole-object reads are counted as well as ranged
 * ones, so that a change from one to the other cannot hide a read.
 */
final class CountingStore extends ForwardingChunkStore {
    private final AtomicInteger packReads = new AtomicInteger();
    private final AtomicInteger manifestReads = new AtomicInteger();

    CountingStore(ChunkStore store) {
        super(store);
    }

    /** @return reads of packs so far, ranged or whole */
    int packReads() {
        return packReads.get();
    }

    /** @return reads of manifests so far, ranged or whole */
    int manifestReads() {
        return manifestReads.get();
    }

    private void count(Kind kind) {
        switch (kind) {
            case PACK -> packReads.incrementAndGet();
            case MANIFEST -> manifestReads.incrementAndGet();
            default -> { }
        }
    }

    @Override
    public byte[] get(Kind kind, String name) throws IOException {
        count(kind);
        return store.get(kind, name);
    }

    @Override
    public void read(Kind kind, String name, long offset, byte[] dst, int at, int length) throws IOException {
        count(kind);
        store.read(kind, name, offset, dst, at, length);
    }
}
