package org.blksnap.backup;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;

import org.blksnap.backup.repo.ChunkStore;

/** A real store, with the ranged reads of packs counted: what a test of the read pattern needs. */
final class CountingStore extends ForwardingChunkStore {
    private final AtomicInteger packReads = new AtomicInteger();

    CountingStore(ChunkStore store) {
        super(store);
    }

    /** @return ranged reads of packs so far */
    int packReads() {
        return packReads.get();
    }

    @Override
    public void read(Kind kind, String name, long offset, byte[] dst, int at, int length) throws IOException {
        if (kind == Kind.PACK) {
            packReads.incrementAndGet();
        }
        store.read(kind, name, offset, dst, at, length);
    }
}
