package org.blksnap.itest.cbt;

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
import java.nio.ByteOrder;
import java.nio.file.Path;

import org.blksnap.api.sys.Ioctl;
import org.blksnap.api.sys.Linux;
import org.blksnap.api.sys.SysResult;

/** Data-changing I/O on a block device that bypasses the page cache (O_DIRECT). */
// pread/pwrite are bound here with FFM; the restricted calls are the point.
@SuppressWarnings("restricted")
public final class BlockIo {
    /** O_DIRECT needs offsets, lengths and buffers aligned to the logical block. */
    static final int SECTOR = 512;
    /** Page alignment for buffers and the granularity of most test writes. */
    static final int DIRECT_ALIGN = 4096;

    static final long BLKRRPART = Ioctl.ioc(Ioctl.NONE, Ioctl.BLOCK_TYPE, 95, 0);
    static final long BLKDISCARD = Ioctl.ioc(Ioctl.NONE, Ioctl.BLOCK_TYPE, 119, 0);
    static final long BLKZEROOUT = Ioctl.ioc(Ioctl.NONE, Ioctl.BLOCK_TYPE, 127, 0);
    static final long BLKGETSIZE64 = Ioctl.ior(Ioctl.BLOCK_TYPE, 114, 8);

    private static final MethodHandle PWRITE = libc("pwrite");
    private static final MethodHandle PREAD = libc("pread");

    private BlockIo() {
    }

    private static MethodHandle libc(String name) {
        Linker linker = Linker.nativeLinker();
        return linker.downcallHandle(linker.defaultLookup().find(name).orElseThrow(),
                FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    }

    /** Writes {@code length} bytes of {@code fill} at {@code offset} with O_DIRECT, sector aligned. */
    static void writeDirect(Path device, long offset, long length, byte fill) throws IOException {
        transfer(device, true, offset, length, fill);
    }

    /** Writes whole sectors: finer than the 4 KiB steps most writes use. */
    static void writeSectors(Path device, long sector, long count) throws IOException {
        transfer(device, true, sector * SECTOR, count * SECTOR, (byte) sector);
    }

    /** Reads with O_DIRECT; reads must never mark the map. */
    static void readDirect(Path device, long offset, long length) throws IOException {
        transfer(device, false, offset, length, (byte) 0);
    }

    private static void transfer(Path device, boolean write, long offset, long length, byte fill)
            throws IOException {
        if (offset % SECTOR != 0 || length % SECTOR != 0 || length <= 0) {
            throw new IllegalArgumentException("unaligned direct I/O " + offset + "+" + length);
        }
        int fd = open(device, (write ? Linux.O_WRONLY : Linux.O_RDONLY) | Linux.O_DIRECT);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(length, DIRECT_ALIGN);
            buf.fill(fill);
            long done = 0;
            while (done < length) {
                long n = (long) (write ? PWRITE : PREAD).invokeExact(fd, buf.asSlice(done), length - done,
                        offset + done);
                if (n <= 0) {
                    throw new IOException((write ? "pwrite " : "pread ") + device + " at " + (offset + done)
                            + " returned " + n);
                }
                done += n;
            }
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        } finally {
            Linux.close(fd);
        }
    }

    static void discard(Path device, long offset, long length) throws IOException {
        rangeIoctl(device, BLKDISCARD, "BLKDISCARD", offset, length);
    }

    static void zeroOut(Path device, long offset, long length) throws IOException {
        rangeIoctl(device, BLKZEROOUT, "BLKZEROOUT", offset, length);
    }

    /** Asks the kernel to re-read the partition table. */
    public static void rereadPartitions(Path device) throws IOException {
        int fd = open(device, Linux.O_RDONLY);
        try {
            SysResult r = Linux.ioctl(fd, BLKRRPART, 0L);
            if (!r.ok()) {
                throw new IOException("BLKRRPART " + device + ": " + r);
            }
        } finally {
            Linux.close(fd);
        }
    }

    static final long BLKPG = Ioctl.ioc(Ioctl.NONE, Ioctl.BLOCK_TYPE, 105, 0);
    private static final int BLKPG_DEL_PARTITION = 2;
    /** sizeof(struct blkpg_partition): two longs, an int, two 64-byte names, padded. */
    private static final int BLKPG_PARTITION_SIZE = 152;

    /** Deletes partition {@code number} of a disk with BLKPG, as parted does. */
    static void deletePartition(Path disk, int number) throws IOException {
        int fd = open(disk, Linux.O_RDONLY);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment part = arena.allocate(BLKPG_PARTITION_SIZE, 8);
            part.set(JAVA_INT, 16, number);
            MemorySegment arg = arena.allocate(24, 8);
            arg.set(JAVA_INT, 0, BLKPG_DEL_PARTITION);
            arg.set(JAVA_INT, 8, BLKPG_PARTITION_SIZE);
            arg.set(ADDRESS, 16, part);
            SysResult r = Linux.ioctl(fd, BLKPG, arg);
            if (!r.ok()) {
                throw new IOException("BLKPG_DEL_PARTITION " + disk + " " + number + ": " + r);
            }
        } finally {
            Linux.close(fd);
        }
    }

    static long sizeBytes(Path device) throws IOException {
        int fd = open(device, Linux.O_RDONLY);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment size = arena.allocate(JAVA_LONG);
            SysResult r = Linux.ioctl(fd, BLKGETSIZE64, size);
            if (!r.ok()) {
                throw new IOException("BLKGETSIZE64 " + device + ": " + r);
            }
            return size.get(JAVA_LONG, 0);
        } finally {
            Linux.close(fd);
        }
    }

    /**
     * Writes an MBR partition table with primary partitions of type 0x83,
     * each given as {first sector, sector count}, with O_DIRECT so the
     * device sees it at once.
     */
    public static void writeMbr(Path device, long[]... partitions) throws IOException {
        ByteBuffer mbr = ByteBuffer.allocate(SECTOR).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < partitions.length; i++) {
            int e = 446 + 16 * i;
            mbr.put(e + 4, (byte) 0x83);
            mbr.putInt(e + 8, Math.toIntExact(partitions[i][0]));
            mbr.putInt(e + 12, Math.toIntExact(partitions[i][1]));
        }
        mbr.put(510, (byte) 0x55);
        mbr.put(511, (byte) 0xaa);
        int fd = open(device, Linux.O_WRONLY | Linux.O_DIRECT);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(SECTOR, DIRECT_ALIGN);
            buf.copyFrom(MemorySegment.ofBuffer(mbr));
            long n = (long) PWRITE.invokeExact(fd, buf, (long) SECTOR, 0L);
            if (n != SECTOR) {
                throw new IOException("writing the MBR of " + device + " returned " + n);
            }
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException(t);
        } finally {
            Linux.close(fd);
        }
    }

    private static void rangeIoctl(Path device, long request, String name, long offset, long length)
            throws IOException {
        int fd = open(device, Linux.O_RDWR);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment range = arena.allocate(JAVA_LONG, 2);
            range.setAtIndex(JAVA_LONG, 0, offset);
            range.setAtIndex(JAVA_LONG, 1, length);
            SysResult r = Linux.ioctl(fd, request, range);
            if (!r.ok()) {
                throw new IOException(name + " " + device + " " + offset + "+" + length + ": " + r);
            }
        } finally {
            Linux.close(fd);
        }
    }

    private static int open(Path device, int flags) throws IOException {
        SysResult r = Linux.open(device.toString(), flags | Linux.O_CLOEXEC);
        if (!r.ok()) {
            throw new IOException("open " + device + ": " + r);
        }
        return r.intValue();
    }
}
