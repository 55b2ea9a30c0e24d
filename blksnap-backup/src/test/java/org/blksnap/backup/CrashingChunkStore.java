package org.blksnap.backup;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.LocalDirectoryStore;

/**
 * Any store, stopped for good before its n-th change (an object put, a
 * writer started or published, a flush, a delete), as a killed process
 * stops: what the store had done before stays, nothing after happens.
 * CrashPointTest's store does the same below the local directory's own
 * steps; this one sees only the {@link ChunkStore} calls, so it stops an S3
 * store too. The lock is still released at the end (a killed command's lock
 * goes stale; the tests do not wait for that).
 */
final class CrashingChunkStore extends ForwardingChunkStore {
    private final int crashAt;
    private int steps;
    private boolean dead;
    final List<String> log = new ArrayList<>();

    CrashingChunkStore(ChunkStore store, int crashAt) {
        super(store);
        this.crashAt = crashAt;
    }

    private synchronized void step(String what) throws IOException {
        if (dead || ++steps == crashAt) {
            dead = true;
            throw new LocalDirectoryStore.SimulatedCrash("crash before " + what);
        }
        log.add(what);
    }

    synchronized boolean crashed() {
        return dead;
    }

    @Override
    public void create() throws IOException {
        step("create");
        store.create();
    }

    @Override
    public void put(Kind kind, String name, byte[] data, int length) throws IOException {
        step("put " + kind + " " + name);
        store.put(kind, name, data, length);
    }

    @Override
    public ObjectWriter writer(Kind kind, String name) throws IOException {
        step("start " + kind + " " + name);
        ObjectWriter w = store.writer(kind, name);
        return new ObjectWriter() {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (crashed()) {
                    throw new LocalDirectoryStore.SimulatedCrash("dead");
                }
                w.write(b, off, len);
            }

            @Override
            public long size() {
                return w.size();
            }

            @Override
            public void publish() throws IOException {
                step("publish " + kind + " " + name);
                w.publish();
            }

            @Override
            public void close() throws IOException {
                if (!crashed()) {
                    w.close();
                }
                // Dead: an upload in progress stays as a kill leaves it (incomplete, invisible).
            }
        };
    }

    @Override
    public void flush() throws IOException {
        step("flush");
        store.flush();
    }

    @Override
    public void delete(Kind kind, String name) throws IOException {
        step("delete " + kind + " " + name);
        store.delete(kind, name);
    }

    @Override
    public int removeLeftovers() throws IOException {
        step("remove leftovers");
        return store.removeLeftovers();
    }

    @Override
    public void close() throws IOException {
        // The caller closes the store it wrapped.
    }
}
