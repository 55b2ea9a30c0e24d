package org.blksnap.itest.verify;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import org.blksnap.api.sys.Ioctl;
import org.blksnap.api.sys.Linux;
import org.blksnap.api.sys.SysResult;

/**
 * One writer's handle on a device: O_DIRECT reads and writes of whole
 * sectors (NIO's direct channels insist on 4 KiB, which would hide the
 * sector-sized edges the checks are about), and discards.
 */
// pread/pwrite are bound here with FFM; the restricted calls are the point.
@SuppressWarnings("restricted")
public final class BlockDevice implements AutoCloseable {
    private static final long BLKDISCARD = Ioctl.ioc(Ioctl.NONE, Ioctl.BLOCK_TYPE, 119, 0);
    private static final MethodHandle PWRITE = libc("pwrite");
    private static final MethodHandle PREAD = libc("pread");

    private final Path path;
    private final int fd;
    private final Arena arena = Arena.ofConfined();
    private final MemorySegment range = arena.allocate(JAVA_LONG, 2);

    private BlockDevice(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    private static MethodHandle libc(String name) {
        Linker linker = Linker.nativeLinker();
        return linker.downcallHandle(linker.defaultLookup().find(name).orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    }

    public static BlockDevice open(Path path) throws IOException {
        SysResult r = Linux.open(path.toString(), Linux.O_RDWR | Linux.O_DIRECT | Linux.O_CLOEXEC);
        if (!r.ok()) {
            throw new IOException("open " + path + ": " + r);
        }
        return new BlockDevice(path, r.intValue());
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

    /** Writes the buffer's remaining bytes at {@code offset}; buffer, offset and length sector aligned. */
    public void write(ByteBuffer buf, long offset) throws IOException {
        transfer(PWRITE, "pwrite", buf, offset);
    }

    /** Fills the buffer's remaining bytes from {@code offset}; fails on a short device. */
    public void read(ByteBuffer buf, long offset) throws IOException {
        transfer(PREAD, "pread", buf, offset);
    }

    private void transfer(MethodHandle call, String name, ByteBuffer buf, long offset) throws IOException {
        MemorySegment seg = MemorySegment.ofBuffer(buf);
        long done = 0;
        try {
            while (done < seg.byteSize()) {
                long n = (long) call.invokeExact(fd, seg.asSlice(done), seg.byteSize() - done, offset + done);
                if (n <= 0) {
                    throw new IOException(name + " " + path + " at " + (offset + done) + " returned " + n);
                }
                done += n;
            }
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        }
        buf.position(buf.limit());
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
    public void close() {
        Linux.close(fd);
        arena.close();
    }
}
