package org.blksnap.backup.engine;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

import org.blksnap.api.sys.Errno;
import org.blksnap.api.sys.Linux;
import org.blksnap.api.sys.SysResult;
import org.blksnap.backup.BackupException;

/**
 * Reads a file or block device with O_DIRECT: from the device, never from
 * the page cache, so that a read-back checks what was stored and not what
 * was just written to memory. O_DIRECT wants the buffer, the offset and the
 * length aligned; reads are done in whole aligned blocks into native memory
 * and the bytes asked for copied out.
 */
final class DirectReader implements AutoCloseable {
    /** Aligns for every logical block size Linux block devices have (512 to 4096). */
    private static final int ALIGN = 4096;

    private final int fd;
    private final Path given;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment buf;

    private DirectReader(int fd, Path given, int maxLength) {
        this.fd = fd;
        this.given = given;
        this.buf = arena.allocate(roundUp(maxLength), ALIGN);
    }

    /**
     * @param path      what to read
     * @param given     its name for messages
     * @param maxLength the longest read that will be asked for
     * @return the reader, to be used by one thread
     * @throws BackupException if the path cannot be opened with O_DIRECT
     */
    static DirectReader open(Path path, Path given, int maxLength) throws BackupException {
        return new DirectReader(openDirect(path, given), given, maxLength);
    }

    /**
     * Fails now if {@code path} cannot be read with O_DIRECT, e.g. on tmpfs
     * before Linux 6.6.
     *
     * @param path  an existing file
     * @param given its name for messages
     * @throws BackupException if it cannot
     */
    static void probe(Path path, Path given) throws BackupException {
        Linux.close(openDirect(path, given));
    }

    private static int openDirect(Path path, Path given) throws BackupException {
        SysResult r = Linux.open(path.toString(), Linux.O_RDONLY | Linux.O_DIRECT | Linux.O_CLOEXEC);
        if (r.ok()) {
            return r.intValue();
        }
        if (r.errno() == Errno.EINVAL) {
            throw new BackupException(given + " is on a file system that cannot be read with O_DIRECT, so "
                    + "--verify could only read back the page cache: restore without --verify, or elsewhere");
        }
        throw new BackupException(given + ": cannot open it to read it back: " + Linux.strerror(r.errno()));
    }

    /**
     * @param dst    where the bytes go
     * @param len    how many
     * @param offset where they are; a multiple of 4096
     * @throws BackupException if the target ends before them or cannot be read
     */
    void readFully(byte[] dst, int len, long offset) throws BackupException {
        if (offset % ALIGN != 0 || len > buf.byteSize()) {
            throw new IllegalArgumentException("read of " + len + " bytes at " + offset);
        }
        long want = roundUp(len);
        long got = 0;
        while (got < len) {
            SysResult r = Linux.pread(fd, buf.asSlice(got), want - got, offset + got);
            if (!r.ok()) {
                throw new BackupException(given + ": reading it back at byte " + (offset + got) + " failed: "
                        + Linux.strerror(r.errno()));
            }
            if (r.value() == 0) {
                throw new BackupException(given + " ends at byte " + (offset + got) + ", before the backup does");
            }
            got += r.value();
        }
        MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, dst, 0, len);
    }

    private static int roundUp(int n) {
        return (n + ALIGN - 1) / ALIGN * ALIGN;
    }

    @Override
    public void close() {
        Linux.close(fd);
        arena.close();
    }
}
