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
    private final DirectFile out;
    private final ReentrantLock oneAtATime;
    private final Arena arena = Arena.ofShared();
    private final ThreadLocal<MemorySegment> aligned = new ThreadLocal<>();
    private final int maxLength;

    private TargetWriter(DirectFile out, boolean regularFile, int maxLength) {
        this.out = out;
        this.oneAtATime = regularFile ? new ReentrantLock() : null;
        this.maxLength = maxLength;
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
     * @param data   the bytes, from index 0
     * @param len    how many, at most the writer's maximum
     * @param offset where they go
     * @throws IOException if the write fails
     */
    void write(byte[] data, int len, long offset) throws IOException {
        if (len > maxLength) {
            throw new IllegalArgumentException("write of " + len + " bytes, at most " + maxLength);
        }
        int head = !out.direct() || offset % DirectFile.ALIGN != 0 ? 0 : len - len % DirectFile.ALIGN;
        MemorySegment buf = head > 0 ? buffer() : null;
        if (buf != null) {
            MemorySegment.copy(data, 0, buf, ValueLayout.JAVA_BYTE, 0, head);
        }
        if (oneAtATime != null) {
            oneAtATime.lock();
        }
        try {
            if (head > 0) {
                out.writeDirect(buf, head, offset);
            }
            if (head < len) {
                out.writeBuffered(data, head, len - head, offset + head);
            }
        } finally {
            if (oneAtATime != null) {
                oneAtATime.unlock();
            }
        }
    }

    private MemorySegment buffer() {
        MemorySegment b = aligned.get();
        if (b == null) {
            b = arena.allocate(Math.ceilDiv(maxLength, DirectFile.ALIGN) * (long) DirectFile.ALIGN,
                    DirectFile.ALIGN);
            aligned.set(b);
        }
        return b;
    }

    /**
     * Makes everything written durable: the direct writes' allocations and
     * the cached pieces (fsync is of the file, whichever descriptor).
     *
     * @throws IOException if the sync fails
     */
    void sync() throws IOException {
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
