package org.blksnap.backup;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.blksnap.backup.repo.ChunkStore;

/** A real store passed through, for test wrappers that watch or break only some of its calls. */
abstract class ForwardingChunkStore implements ChunkStore {
    protected final ChunkStore store;

    ForwardingChunkStore(ChunkStore store) {
        this.store = store;
    }

    @Override
    public String location() {
        return store.location();
    }

    @Override
    public boolean exists() throws IOException {
        return store.exists();
    }

    @Override
    public void create() throws IOException {
        store.create();
    }

    @Override
    public void put(Kind kind, String name, byte[] data, int length) throws IOException {
        store.put(kind, name, data, length);
    }

    @Override
    public ObjectWriter writer(Kind kind, String name) throws IOException {
        return store.writer(kind, name);
    }

    @Override
    public void flush() throws IOException {
        store.flush();
    }

    @Override
    public byte[] get(Kind kind, String name) throws IOException {
        return store.get(kind, name);
    }

    @Override
    public void read(Kind kind, String name, long offset, byte[] dst, int at, int length) throws IOException {
        store.read(kind, name, offset, dst, at, length);
    }

    @Override
    public long size(Kind kind, String name) throws IOException {
        return store.size(kind, name);
    }

    @Override
    public List<String> list(Kind kind) throws IOException {
        return store.list(kind);
    }

    @Override
    public Map<String, Long> sizes(Kind kind) throws IOException {
        return store.sizes(kind);
    }

    @Override
    public void delete(Kind kind, String name) throws IOException {
        store.delete(kind, name);
    }

    @Override
    public Lock lock(LockMode mode, Duration wait) throws IOException {
        return store.lock(mode, wait);
    }

    @Override
    public int removeLeftovers() throws IOException {
        return store.removeLeftovers();
    }

    @Override
    public void close() throws IOException {
        store.close();
    }
}
