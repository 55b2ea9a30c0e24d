package org.blksnap.api;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.blksnap.api.sys.Abi;
import org.blksnap.api.sys.Errno;
import org.blksnap.api.sys.Fiemap;
import org.blksnap.api.sys.Linux;
import org.blksnap.api.sys.SysResult;

/**
 * Where a regular file's data lies on the block device that holds it, found
 * with {@code FS_IOC_FIEMAP}.
 *
 * @param device the block device holding the file (e.g. {@code /dev/block/253:1})
 * @param ranges the file's sectors on that device, in file order
 */
public record FileExtents(Path device, List<SectorRange> ranges) {
    private static final int BATCH = 256;

    /** Copies the list. */
    public FileExtents {
        Objects.requireNonNull(device, "device");
        ranges = List.copyOf(ranges);
    }

    /**
     * Maps a file.
     *
     * @param file a regular file on a block-device backed filesystem
     * @return its device and sector ranges
     * @throws BlkSnapException if the file cannot be mapped (e.g. tmpfs,
     *                          compressed or inline data)
     */
    public static FileExtents of(Path file) throws BlkSnapException {
        long size;
        DeviceNumber dev;
        try {
            if (!Files.isRegularFile(file)) {
                throw new BlkSnapException(file + " is not a regular file", Errno.EINVAL);
            }
            size = Files.size(file);
            dev = DeviceNumber.decode((Long) Files.getAttribute(file, "unix:dev"));
        } catch (IOException e) {
            throw new BlkSnapException("cannot read " + file + ": " + e.getMessage(), 0);
        }
        SysResult fd = Linux.open(file.toString(), Linux.O_RDONLY | Linux.O_CLOEXEC);
        if (!fd.ok()) {
            throw Errors.openDevice(file, fd.errno());
        }
        List<SectorRange> ranges = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            long header = Fiemap.FIEMAP.byteSize();
            long extentSize = Fiemap.FIEMAP_EXTENT.byteSize();
            MemorySegment map = arena.allocate(header + BATCH * extentSize, 8);
            long start = 0;
            boolean last = false;
            while (start < size && !last) {
                map.fill((byte) 0);
                map.set(JAVA_LONG, Abi.offset(Fiemap.FIEMAP, "fm_start"), start);
                map.set(JAVA_LONG, Abi.offset(Fiemap.FIEMAP, "fm_length"), size - start);
                map.set(JAVA_INT, Abi.offset(Fiemap.FIEMAP, "fm_flags"), Fiemap.FIEMAP_FLAG_SYNC);
                map.set(JAVA_INT, Abi.offset(Fiemap.FIEMAP, "fm_extent_count"), BATCH);
                SysResult r = Linux.ioctl(fd.intValue(), Fiemap.FS_IOC_FIEMAP, map);
                if (!r.ok()) {
                    throw r.errno() == Errno.EOPNOTSUPP || r.errno() == Errno.ENOTTY
                            ? new BlkSnapException(file + ": its filesystem cannot tell where the file lies "
                                    + "(no FIEMAP); use markdirtyblock --device with --range", r.errno())
                            : Errors.generic("mapping " + file, r.errno());
                }
                int mapped = map.get(JAVA_INT, Abi.offset(Fiemap.FIEMAP, "fm_mapped_extents"));
                if (mapped == 0) {
                    break;
                }
                for (int i = 0; i < mapped; i++) {
                    long e = header + i * extentSize;
                    long logical = map.get(JAVA_LONG, e + Abi.offset(Fiemap.FIEMAP_EXTENT, "fe_logical"));
                    long physical = map.get(JAVA_LONG, e + Abi.offset(Fiemap.FIEMAP_EXTENT, "fe_physical"));
                    long length = map.get(JAVA_LONG, e + Abi.offset(Fiemap.FIEMAP_EXTENT, "fe_length"));
                    int flags = map.get(JAVA_INT, e + Abi.offset(Fiemap.FIEMAP_EXTENT, "fe_flags"));
                    if ((flags & (Fiemap.FIEMAP_EXTENT_UNKNOWN | Fiemap.FIEMAP_EXTENT_ENCODED
                            | Fiemap.FIEMAP_EXTENT_NOT_ALIGNED)) != 0) {
                        throw new BlkSnapException(file + ": extent at byte " + logical
                                + " has no plain location on the device (flags 0x" + Integer.toHexString(flags)
                                + ")", Errno.EINVAL);
                    }
                    if (length > 0) {
                        ranges.add(SectorRange.ofBytes(physical, length));
                    }
                    start = logical + length;
                    last |= (flags & Fiemap.FIEMAP_EXTENT_LAST) != 0;
                }
            }
        } finally {
            Linux.close(fd.intValue());
        }
        return new FileExtents(deviceNode(dev), ranges);
    }

    /**
     * The node of a block device: the name the kernel gave it (sysfs uevent
     * DEVNAME) under /dev, since /dev/block/M:m links exist only with udev.
     */
    static Path deviceNode(DeviceNumber dev) {
        Path uevent = Path.of("/sys/dev/block/" + dev + "/uevent");
        try {
            for (String line : Files.readAllLines(uevent)) {
                if (line.startsWith("DEVNAME=")) {
                    Path node = Path.of("/dev", line.substring("DEVNAME=".length()));
                    if (Files.exists(node)) {
                        return node;
                    }
                }
            }
        } catch (IOException e) {
            // Fall through to the udev name.
        }
        return Path.of("/dev/block/" + dev);
    }
}
