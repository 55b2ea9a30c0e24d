package org.blksnap.api;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

import org.blksnap.api.sys.Abi;
import org.blksnap.api.sys.Errno;
import org.blksnap.api.sys.Ioctl;
import org.blksnap.api.sys.Linux;
import org.blksnap.api.sys.SysResult;

/**
 * The blksnap filter of one block device: attach and detach it, read its
 * change-block tracking state, and add the device to a snapshot.
 *
 * <pre>{@code
 * try (Filter f = Filter.open(Path.of("/dev/vda"))) {
 *     f.attach();
 *     CbtInfo info = f.cbtInfo();
 * }
 * }</pre>
 *
 * <p>Closing the handle does not detach the filter: tracking goes on in the
 * kernel until {@link #detach()}.
 */
public final class Filter implements AutoCloseable {
    /** Largest piece of the CBT map read by one ioctl. */
    private static final int MAP_CHUNK = 1 << 20;

    private final Path device;
    private final NativeFd fd;

    private Filter(Path device, NativeFd fd) {
        this.device = device;
        this.fd = fd;
    }

    /**
     * Opens a block device (read-only; the filter ioctls need no more).
     *
     * @param device e.g. {@code /dev/vda} or {@code /dev/loop0p1}
     * @return the handle
     * @throws NotBlockDeviceException    if the path is no block device
     * @throws PermissionDeniedException if not run as root
     */
    public static Filter open(Path device) throws BlkSnapException {
        Objects.requireNonNull(device, "device");
        if (!Files.exists(device)) {
            throw new NotBlockDeviceException(device + " is not a block device (it does not exist)", Errno.ENOENT);
        }
        if (!Devices.isBlockDevice(device)) {
            throw new NotBlockDeviceException(device + " is not a block device", Errno.ENOTBLK);
        }
        SysResult r = Linux.open(device.toString(), Linux.O_RDONLY | Linux.O_CLOEXEC);
        if (!r.ok()) {
            throw Errors.openDevice(device, r.errno());
        }
        return new Filter(device, new NativeFd(r.intValue()));
    }

    /** @return the device path this handle was opened with */
    public Path device() {
        return device;
    }

    /**
     * @return major and minor number of the device
     * @throws BlkSnapException if the node cannot be read
     */
    public DeviceNumber deviceNumber() throws BlkSnapException {
        try {
            return Devices.deviceNumber(device);
        } catch (java.io.IOException e) {
            throw new NotBlockDeviceException(device + ": " + e.getMessage(), 0);
        }
    }

    /**
     * Attaches the blksnap filter: change tracking starts now.
     *
     * @throws FilterAlreadyAttachedException if attached already
     * @throws BlkSnapException               for other failures
     */
    public void attach() throws BlkSnapException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment a = arena.allocate(Abi.BLKFILTER_ATTACH);
            writeName(a);
            SysResult r = Linux.ioctl(fd.get(), Ioctl.BLKFILTER_ATTACH, a);
            if (!r.ok()) {
                throw Errors.filter(device, "attach", r.errno());
            }
        }
    }

    /**
     * Detaches the filter: tracking stops and the CBT map is dropped.
     *
     * @throws FilterNotAttachedException if not attached
     * @throws BlkSnapException           for other failures
     */
    public void detach() throws BlkSnapException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment d = arena.allocate(Abi.BLKFILTER_DETACH);
            writeName(d);
            SysResult r = Linux.ioctl(fd.get(), Ioctl.BLKFILTER_DETACH, d);
            if (!r.ok()) {
                throw Errors.filter(device, "detach", r.errno());
            }
        }
    }

    /**
     * @return true if the filter is attached (asks the tracker for its state)
     * @throws BlkSnapException for failures other than "not attached"
     */
    public boolean isAttached() throws BlkSnapException {
        try {
            cbtInfo();
            return true;
        } catch (FilterNotAttachedException e) {
            return false;
        }
    }

    /**
     * @return the tracker's state
     * @throws FilterNotAttachedException if not attached
     * @throws BlkSnapException           for other failures
     */
    public CbtInfo cbtInfo() throws BlkSnapException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(Abi.BLKSNAP_CBTINFO);
            ctl(arena, Abi.CTL_CBTINFO, info, "cbtinfo");
            return new CbtInfo(
                    info.get(JAVA_LONG, Abi.offset(Abi.BLKSNAP_CBTINFO, "device_capacity")),
                    info.get(JAVA_INT, Abi.offset(Abi.BLKSNAP_CBTINFO, "block_size")),
                    info.get(JAVA_INT, Abi.offset(Abi.BLKSNAP_CBTINFO, "block_count")),
                    Uuid.read(info, Abi.offset(Abi.BLKSNAP_CBTINFO, "generation_id")),
                    Byte.toUnsignedInt(info.get(JAVA_BYTE, Abi.offset(Abi.BLKSNAP_CBTINFO, "changes_number"))));
        }
    }

    /**
     * Reads the whole CBT map: one byte per block, the changes number of the
     * take before which the block last changed.
     *
     * <p>The map is read in pieces, and a resize of the device rebuilds it:
     * {@link CbtMap#read} pairs the map with the state it belongs to and
     * reads again when it changed.
     *
     * @return the map, {@link CbtInfo#blockCount()} bytes
     * @throws FilterNotAttachedException if not attached
     * @throws CbtMapChangedException     if the map shrank while it was read
     * @throws BlkSnapException           for other failures
     */
    public byte[] readCbtMap() throws BlkSnapException {
        CbtInfo info = cbtInfo();
        byte[] map = new byte[info.blockCount()];
        int offset = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(Math.max(1, Math.min(MAP_CHUNK, map.length)));
            MemorySegment req = arena.allocate(Abi.BLKSNAP_CBTMAP);
            while (offset < map.length) {
                int want = (int) Math.min(buf.byteSize(), map.length - offset);
                req.set(JAVA_INT, Abi.offset(Abi.BLKSNAP_CBTMAP, "offset"), offset);
                req.set(JAVA_INT, Abi.offset(Abi.BLKSNAP_CBTMAP, "length"), want);
                req.set(JAVA_LONG, Abi.offset(Abi.BLKSNAP_CBTMAP, "buffer"), buf.address());
                SysResult r = rawCtl(arena, Abi.CTL_CBTMAP, req);
                // The window lies inside the map CBTINFO described, so the
                // kernel copies all of it and returns 0. ENODATA says it no
                // longer lies inside: the map shrank under us (capacity
                // change). What was read is still right, the rest is unknown,
                // so refuse.
                if (!r.ok() && r.errno() == Errno.ENODATA) {
                    throw new CbtMapChangedException(device + ": CBT map changed while reading (" + want
                            + " bytes at offset " + offset + " of " + map.length + " no longer exist); read it again");
                }
                if (!r.ok()) {
                    throw Errors.filter(device, "readcbtmap", r.errno());
                }
                MemorySegment.copy(buf, JAVA_BYTE, 0, map, offset, want);
                offset += want;
            }
        }
        return map;
    }

    /**
     * Marks sector ranges as changed, so the next incremental backup reads
     * them again.
     *
     * @param ranges ranges of 512-byte sectors; empty is a no-op
     * @throws BlkSnapException if the kernel refuses (e.g. EINVAL past the end)
     */
    public void markDirty(List<SectorRange> ranges) throws BlkSnapException {
        Objects.requireNonNull(ranges, "ranges");
        if (ranges.isEmpty()) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment array = arena.allocate(Abi.BLKSNAP_SECTORS, ranges.size());
            long size = Abi.BLKSNAP_SECTORS.byteSize();
            for (int i = 0; i < ranges.size(); i++) {
                SectorRange s = ranges.get(i);
                array.set(JAVA_LONG, i * size + Abi.offset(Abi.BLKSNAP_SECTORS, "offset"), s.offset());
                array.set(JAVA_LONG, i * size + Abi.offset(Abi.BLKSNAP_SECTORS, "count"), s.count());
            }
            MemorySegment dirty = arena.allocate(Abi.BLKSNAP_CBTDIRTY);
            dirty.set(JAVA_INT, Abi.offset(Abi.BLKSNAP_CBTDIRTY, "count"), ranges.size());
            dirty.set(JAVA_LONG, Abi.offset(Abi.BLKSNAP_CBTDIRTY, "dirty_sectors"), array.address());
            ctl(arena, Abi.CTL_CBTDIRTY, dirty, "markdirtyblock");
        }
    }

    /**
     * Adds this device to a created, not yet taken snapshot.
     *
     * @param id the snapshot
     * @throws DeviceBusyException       if the device is in a snapshot already
     * @throws SnapshotNotFoundException if there is no such snapshot
     * @throws BlkSnapException          for other failures
     */
    public void snapshotAdd(SnapshotId id) throws BlkSnapException {
        Objects.requireNonNull(id, "id");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment add = arena.allocate(Abi.BLKSNAP_SNAPSHOTADD);
            id.uuid().write(add, Abi.offset(Abi.BLKSNAP_SNAPSHOTADD, "id"));
            SysResult r = rawCtl(arena, Abi.CTL_SNAPSHOTADD, add);
            if (!r.ok()) {
                throw switch (r.errno()) {
                    case Errno.ESRCH -> new SnapshotNotFoundException("snapshot " + id + " not found", r.errno());
                    case Errno.EALREADY -> new DeviceBusyException(device + ": already in snapshot " + id,
                            r.errno());
                    case Errno.EBUSY -> new DeviceBusyException(device
                            + ": device already in a snapshot, or snapshot " + id + " already taken", r.errno());
                    case Errno.EOPNOTSUPP -> new BlkSnapException(device + ": cannot be snapshotted (integrity "
                            + "profile or inline encryption)", r.errno());
                    // EPERM is also the module's answer for a device that holds
                    // the snapshot's own difference storage; a capability
                    // problem would fail a harmless query as well.
                    case Errno.EPERM -> privileged()
                            ? new DiffStorageException(device + " holds the difference storage of snapshot " + id
                                    + " (or shares its disk): put the storage on another disk", r.errno())
                            : Errors.filter(device, "snapshot_add", r.errno());
                    default -> Errors.filter(device, "snapshot_add", r.errno());
                };
            }
        }
    }

    private boolean privileged() {
        try (Arena arena = Arena.ofConfined()) {
            SysResult r = rawCtl(arena, Abi.CTL_CBTINFO, arena.allocate(Abi.BLKSNAP_CBTINFO));
            return r.errno() != Errno.EPERM && r.errno() != Errno.EACCES;
        }
    }

    /**
     * @return the snapshot state of this device: error and image name; no
     *         error and no image when the device is in no snapshot or its
     *         snapshot is not taken yet (the kernel does not tell them apart)
     * @throws BlkSnapException if the call fails
     */
    public SnapshotInfo snapshotInfo() throws BlkSnapException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(Abi.BLKSNAP_SNAPSHOTINFO);
            SysResult r = rawCtl(arena, Abi.CTL_SNAPSHOTINFO, info);
            if (!r.ok()) {
                throw Errors.filter(device, "snapshot_info", r.errno());
            }
            MemorySegment image = info.asSlice(Abi.offset(Abi.BLKSNAP_SNAPSHOTINFO, "image"),
                    Abi.IMAGE_DISK_NAME_LEN);
            return new SnapshotInfo(info.get(JAVA_INT, Abi.offset(Abi.BLKSNAP_SNAPSHOTINFO, "error_code")),
                    cString(image));
        }
    }

    /**
     * @return the raw descriptor of the device, for the low-level API;
     *         valid until {@link #close()}
     */
    public int fd() {
        return fd.get();
    }

    /** Closes the device. The filter stays attached. */
    @Override
    public void close() {
        fd.close();
    }

    private void ctl(Arena arena, int cmd, MemorySegment opt, String what) throws BlkSnapException {
        SysResult r = rawCtl(arena, cmd, opt);
        if (!r.ok()) {
            throw Errors.filter(device, what, r.errno());
        }
    }

    private SysResult rawCtl(Arena arena, int cmd, MemorySegment opt) {
        MemorySegment c = arena.allocate(Abi.BLKFILTER_CTL);
        writeName(c);
        c.set(JAVA_INT, Abi.offset(Abi.BLKFILTER_CTL, "cmd"), cmd);
        c.set(JAVA_INT, Abi.offset(Abi.BLKFILTER_CTL, "optlen"), Math.toIntExact(opt.byteSize()));
        c.set(JAVA_LONG, Abi.offset(Abi.BLKFILTER_CTL, "opt"), opt.address());
        return Linux.ioctl(fd.get(), Ioctl.BLKFILTER_CTL, c);
    }

    private static void writeName(MemorySegment struct) {
        byte[] name = Abi.FILTER_NAME.getBytes(StandardCharsets.US_ASCII);
        MemorySegment.copy(name, 0, struct, JAVA_BYTE, 0, name.length);
    }

    static String cString(MemorySegment bytes) {
        byte[] b = bytes.toArray(JAVA_BYTE);
        int n = 0;
        while (n < b.length && b[n] != 0) {
            n++;
        }
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }
}
