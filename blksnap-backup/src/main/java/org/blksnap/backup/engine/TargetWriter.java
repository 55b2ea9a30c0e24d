package org.blksnap.backup.engine;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.concurrent.locks.ReentrantLock;

import org.blksnap.backup.repo.DirectFile;

/**
 * Writes a restore's chunks to its target, whole blocks with O_DIRECT (see
 * {@link DirectFile} for why), the rest (the end of a device whose size is
 * not a multiple of 4096) through the page cache.
 *
 * <p>Writes to a regular file are taken one at a time: a file system
 * serialises writes to one file on its inode lock, and a worker waiting for
 * it in the kernel spins on the other CPU (rwsem optimistic spinning, 15% of
 * a 2 GiB buffered restore's samples); waiting here parks it. A block device
 * takes no such lock, so its writes stay parallel.
 */
final class TargetWriter implements AutoCloseable {
    /**
     * Bytes a worker gathers before one O_DIRECT write, when its chunks
     * follow each other on the target (a run of a pack mostly does): one
     * write of 4 MiB costs less than 16 of 256 KiB (2 GiB with dd here:
     * 1.78 s in writes of 256 KiB, 1.54 s of 1 MiB, 1.19 s of 8 MiB).
     */
    static final int GATHER = 4 << 20;

    private final DirectFile out;
    private final ReentrantLock oneAtATime;
    private final Arena arena = Arena.ofShared();
    private final int maxLength;
    private final int capacity;
    private final ThreadLocal<Gathered> gathered = new ThreadLocal<>();
    private final java.util.Queue<Gathered> all = new java.util.concurrent.ConcurrentLinkedQueue<>();

    /** What one worker has gathered: {@code length} bytes for {@code start} on. */
    private static final class Gathered {
        final MemorySegment buf;
        long start;
        int length;

        Gathered(MemorySegment buf) {
            this.buf = buf;
        }
    }

    private TargetWriter(DirectFile out, boolean regularFile, int maxLength) {
        this.out = out;
        this.oneAtATime = regularFile ? new ReentrantLock() : null;
        this.maxLength = maxLength;
        this.capacity = Math.ceilDiv(Math.max(GATHER, maxLength), DirectFile.ALIGN) * DirectFile.ALIGN;
    }

    /**
     * @param device    the claimed device, as /proc/self/fd/N of the claim (so that it is the very one)
     * @param given     its name for messages
     * @param maxLength the longest write that will be asked for (a chunk)
     * @return a writer for the workers of one restore
     * @throws IOException if the device cannot be opened for writing
     */
    static TargetWriter device(Path device, Path given, int maxLength) throws IOException {
        return new TargetWriter(DirectFile.open(device, given), false, maxLength);
    }

    /**
     * Creates a regular file of {@code size} bytes (holes until written).
     *
     * @param path      a name that does not exist
     * @param size      the file's size
     * @param maxLength the longest write that will be asked for (a chunk)
     * @return a writer for the workers of one restore
     * @throws IOException if the file exists or cannot be made
     */
    static TargetWriter createFile(Path path, long size, int maxLength) throws IOException {
        TargetWriter w = new TargetWriter(DirectFile.create(path), true, maxLength);
        try (RandomAccessFile raf = new RandomAccessFile(w.out.path().toFile(), "rw")) {
            // ftruncate, not a write: what is never written stays a hole.
            raf.setLength(size);
            return w;
        } catch (IOException | RuntimeException e) {
            w.close();
            throw e;
        }
    }

    /** @return whether whole blocks bypass the page cache */
    boolean direct() {
        return out.direct();
    }

    /**
     * Takes bytes for the target. With O_DIRECT they are gathered while
     * they follow each other and written when they stop doing so, when the
     * worker has gathered {@link #GATHER}, or by {@link #sync}.
     *
     * @param data   the bytes, from index 0
     * @param len    how many, at most the writer's maximum
     * @param offset where they go
     * @throws IOException if a write fails
     */
    void write(byte[] data, int len, long offset) throws IOException {
        if (len > maxLength) {
            throw new IllegalArgumentException("write of " + len + " bytes, at most " + maxLength);
        }
        if (!out.direct()) {
            writeCached(data, len, offset);
            return;
        }
        Gathered g = gathered();
        if (g.length > 0 && (offset != g.start + g.length || g.length + len > capacity)) {
            flush(g);
        }
        if (g.length == 0) {
            if (offset % DirectFile.ALIGN != 0) {
                // Only a device's end is not aligned, and only where its size is not.
                writeCached(data, len, offset);
                return;
            }
            g.start = offset;
        }
        MemorySegment.copy(data, 0, g.buf, ValueLayout.JAVA_BYTE, g.length, len);
        g.length += len;
        if (len % DirectFile.ALIGN != 0) {
            // Nothing can follow a piece that is not whole blocks.
            flush(g);
        }
    }

    private void writeCached(byte[] data, int len, long offset) throws IOException {
        lock();
        try {
            out.writeBuffered(data, 0, len, offset);
        } finally {
            unlock();
        }
    }

    private Gathered gathered() {
        Gathered g = gathered.get();
        if (g == null) {
            g = new Gathered(arena.allocate(capacity, DirectFile.ALIGN));
            gathered.set(g);
            all.add(g);
        }
        return g;
    }

    private void flush(Gathered g) throws IOException {
        int whole = g.length - g.length % DirectFile.ALIGN;
        lock();
        try {
            if (whole > 0) {
                out.writeDirect(g.buf, whole, g.start);
            }
            if (whole < g.length) {
                byte[] rest = g.buf.asSlice(whole, g.length - whole).toArray(ValueLayout.JAVA_BYTE);
                out.writeBuffered(rest, 0, rest.length, g.start + whole);
            }
        } finally {
            unlock();
        }
        g.length = 0;
    }

    private void lock() {
        if (oneAtATime != null) {
            oneAtATime.lock();
        }
    }

    private void unlock() {
        if (oneAtATime != null) {
            oneAtATime.unlock();
        }
    }

    /**
     * Writes what the workers have gathered and makes everything durable:
     * the direct writes' allocations and the cached pieces (fsync is of the
     * file, whichever descriptor). Called once the workers are done.
     *
     * @throws IOException if a write or the sync fails
     */
    void sync() throws IOException {
        for (Gathered g : all) {
            if (g.length > 0) {
                flush(g);
            }
        }
        out.buffered().force(true);
    }

    /** Closes the target; the workers must be done. */
    @Override
    public void close() throws IOException {
        try {
            out.close();
        } finally {
            arena.close();
        }
    }
}
