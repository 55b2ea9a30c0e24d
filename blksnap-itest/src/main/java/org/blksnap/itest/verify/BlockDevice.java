package org.blksnap.itest.verify;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import com.sun.nio.file.ExtendedOpenOption;

import org.blksnap.api.sys.Ioctl;
import org.blksnap.api.sys.Linux;
import org.blksnap.api.sys.SysResult;

/** One writer's handle on a device: O_DIRECT writes and reads, and discards. */
public final class BlockDevice implements AutoCloseable {
    private static final long BLKDISCARD = Ioctl.ioc(Ioctl.NONE, Ioctl.BLOCK_TYPE, 119, 0);

    private final Path path;
    private final FileChannel channel;
    private final int fd;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment range = arena.allocate(JAVA_LONG, 2);

    private BlockDevice(Path path, FileChannel channel, int fd) {
        this.path = path;
        this.channel = channel;
        this.fd = fd;
    }

    public static BlockDevice open(Path path) throws IOException {
        FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE,
                ExtendedOpenOption.DIRECT);
        SysResult r = Linux.open(path.toString(), Linux.O_RDWR | Linux.O_CLOEXEC);
        if (!r.ok()) {
            ch.close();
            throw new IOException("open " + path + ": " + r);
        }
        return new BlockDevice(path, ch, r.intValue());
    }

    /** A direct buffer aligned for O_DIRECT. */
    public static ByteBuffer buffer(int bytes) {
        return ByteBuffer.allocateDirect(bytes + Stamp.BLOCK).alignedSlice(Stamp.BLOCK).slice(0, bytes);
    }

    /** Whether the device accepts discards at all (many virtual disks do not). */
    public static boolean discards(Path device) throws IOException {
        Path max = Path.of("/sys/class/block", device.getFileName().toString(), "queue/discard_max_bytes");
        return Files.exists(max) && Long.parseLong(Files.readString(max).strip()) > 0;
    }

    public Path path() {
        return path;
    }

    /** Writes the whole buffer at {@code offset}. */
    public void write(ByteBuffer buf, long offset) throws IOException {
        long pos = offset;
        while (buf.hasRemaining()) {
            pos += channel.write(buf, pos);
        }
    }

    /** Fills the buffer from {@code offset}; fails on a short device. */
    public void read(ByteBuffer buf, long offset) throws IOException {
        long pos = offset;
        while (buf.hasRemaining()) {
            int n = channel.read(buf, pos);
            if (n <= 0) {
                throw new IOException(path + ": short read at " + pos);
            }
            pos += n;
        }
    }

    public void discard(long offset, long length) throws IOException {
        range.setAtIndex(JAVA_LONG, 0, offset);
        range.setAtIndex(JAVA_LONG, 1, length);
        SysResult r = Linux.ioctl(fd, BLKDISCARD, range);
        if (!r.ok()) {
            throw new IOException("BLKDISCARD " + path + " " + offset + "+" + length + ": " + r);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            Linux.close(fd);
            arena.close();
        }
    }
}
