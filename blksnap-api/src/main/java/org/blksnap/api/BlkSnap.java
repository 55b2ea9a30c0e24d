package org.blksnap.api;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import org.blksnap.api.sys.Abi;
import org.blksnap.api.sys.Errno;
import org.blksnap.api.sys.Ioctl;
import org.blksnap.api.sys.Linux;
import org.blksnap.api.sys.SysResult;

/**
 * The module's control device {@code /dev/blksnap-control}: version and the
 * life cycle of snapshots.
 *
 * <pre>{@code
 * try (BlkSnap blksnap = BlkSnap.open()) {
 *     System.out.println(blksnap.version());
 * }
 * }</pre>
 *
 * <p>Thread-safe: every call is one ioctl on a shared descriptor.
 */
public final class BlkSnap implements AutoCloseable {
    /** Path of the control device. */
    public static final String CONTROL_DEVICE = Abi.CONTROL_DEVICE;

    private final NativeFd fd;

    private BlkSnap(NativeFd fd) {
        this.fd = fd;
    }

    /**
     * Opens the control device.
     *
     * @return the handle; close it when done
     * @throws ModuleNotLoadedException   if the module is not loaded
     * @throws PermissionDeniedException if not run as root
     * @throws BlkSnapException           for other failures
     */
    public static BlkSnap open() throws BlkSnapException {
        SysResult r = Linux.open(CONTROL_DEVICE, Linux.O_RDWR | Linux.O_CLOEXEC);
        if (!r.ok()) {
            throw Errors.openControl(r.errno());
        }
        return new BlkSnap(new NativeFd(r.intValue()));
    }

    /**
     * @return the module's version
     * @throws BlkSnapException if the ioctl fails
     */
    public Version version() throws BlkSnapException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment v = arena.allocate(Abi.BLKSNAP_VERSION);
            SysResult r = Linux.ioctl(fd.get(), Ioctl.IOCTL_BLKSNAP_VERSION, v);
            if (!r.ok()) {
                throw Errors.generic("version query", r.errno());
            }
            return new Version(u16(v, "major"), u16(v, "minor"), u16(v, "revision"), u16(v, "build"));
        }
    }

    /**
     * Creates a snapshot object and its difference storage. Add devices with
     * {@link Filter#snapshotAdd}, then {@link #take}.
     *
     * @param storage      where overwritten chunks are kept
     * @param limitSectors most 512-byte sectors the storage may use
     * @return the new snapshot's identifier
     * @throws DiffStorageException if the storage path is unusable
     * @throws BlkSnapException      if the kernel refuses
     */
    public SnapshotId createSnapshot(DiffStorage storage, long limitSectors) throws BlkSnapException {
        Objects.requireNonNull(storage, "storage");
        if (limitSectors <= 0) {
            throw new DiffStorageException("diff storage limit must be positive, not " + limitSectors, Errno.EINVAL);
        }
        Path path = storage.prepare();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocateFrom(path.toString());
            MemorySegment c = arena.allocate(Abi.BLKSNAP_SNAPSHOT_CREATE);
            c.set(JAVA_LONG, Abi.offset(Abi.BLKSNAP_SNAPSHOT_CREATE, "diff_storage_limit_sect"), limitSectors);
            c.set(JAVA_LONG, Abi.offset(Abi.BLKSNAP_SNAPSHOT_CREATE, "diff_storage_filename"), name.address());
            SysResult r = Linux.ioctl(fd.get(), Ioctl.IOCTL_BLKSNAP_SNAPSHOT_CREATE, c);
            if (!r.ok()) {
                throw switch (r.errno()) {
                    case Errno.EPERM, Errno.EACCES -> new PermissionDeniedException(Errors.PERMISSION_DENIED,
                            r.errno());
                    case Errno.ENOENT, Errno.ENOTDIR, Errno.EINVAL, Errno.ENOSPC, Errno.EBUSY, Errno.EFBIG,
                            Errno.EROFS, Errno.EOPNOTSUPP, Errno.ENAMETOOLONG, Errno.EISDIR -> new DiffStorageException(
                                    "cannot use diff storage " + path + ": " + Linux.strerror(r.errno())
                                            + " (" + Errno.name(r.errno()) + ")", r.errno());
                    default -> Errors.generic("snapshot creation", r.errno());
                };
            }
            return new SnapshotId(Uuid.read(c, Abi.offset(Abi.BLKSNAP_SNAPSHOT_CREATE, "id")));
        }
    }

    /**
     * Takes the snapshot: freezes, switches CBT maps, starts copy-on-write
     * and makes the images appear, for all its devices at one point in time.
     *
     * @param id the snapshot
     * @throws BlkSnapException if the kernel refuses
     */
    public void take(SnapshotId id) throws BlkSnapException {
        uuidIoctl(Ioctl.IOCTL_BLKSNAP_SNAPSHOT_TAKE, id, "take");
    }

    /**
     * Destroys the snapshot: removes its images and releases its storage.
     * The devices stay tracked.
     *
     * @param id the snapshot
     * @throws SnapshotNotFoundException if there is no such snapshot
     * @throws BlkSnapException          if the kernel refuses
     */
    public void destroy(SnapshotId id) throws BlkSnapException {
        int errno = uuidIoctl(Ioctl.IOCTL_BLKSNAP_SNAPSHOT_DESTROY, id);
        if (errno != 0) {
            throw Errors.destroy(id, errno);
        }
    }

    private void uuidIoctl(long request, SnapshotId id, String what) throws BlkSnapException {
        int errno = uuidIoctl(request, id);
        if (errno != 0) {
            throw Errors.snapshot(id, what, errno);
        }
    }

    /** @return 0, or the errno the ioctl failed with */
    private int uuidIoctl(long request, SnapshotId id) {
        Objects.requireNonNull(id, "id");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment u = arena.allocate(Abi.BLKSNAP_UUID);
            id.uuid().write(u, 0);
            SysResult r = Linux.ioctl(fd.get(), request, u);
            return r.ok() ? 0 : r.errno();
        }
    }

    /**
     * @return the identifiers of all existing snapshots
     * @throws BlkSnapException if the ioctl fails
     */
    public List<SnapshotId> collect() throws BlkSnapException {
        // Snapshots may appear between the sizing call and the filling call:
        // ENODATA then says how many there are now, so ask again.
        int room = 0;
        for (int attempt = 0; attempt < 16; attempt++) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment ids = room == 0 ? MemorySegment.NULL : arena.allocate(Abi.BLKSNAP_UUID, room);
                MemorySegment c = arena.allocate(Abi.BLKSNAP_SNAPSHOT_COLLECT);
                c.set(JAVA_INT, Abi.offset(Abi.BLKSNAP_SNAPSHOT_COLLECT, "count"), room);
                c.set(JAVA_LONG, Abi.offset(Abi.BLKSNAP_SNAPSHOT_COLLECT, "ids"), ids.address());
                SysResult r = Linux.ioctl(fd.get(), Ioctl.IOCTL_BLKSNAP_SNAPSHOT_COLLECT, c);
                int count = c.get(JAVA_INT, Abi.offset(Abi.BLKSNAP_SNAPSHOT_COLLECT, "count"));
                if (r.ok() && count <= room) {
                    List<SnapshotId> out = new ArrayList<>(count);
                    for (int i = 0; i < count; i++) {
                        out.add(new SnapshotId(Uuid.read(ids, i * Abi.BLKSNAP_UUID.byteSize())));
                    }
                    return List.copyOf(out);
                }
                if (!r.ok() && r.errno() != Errno.ENODATA) {
                    throw Errors.generic("snapshot listing", r.errno());
                }
                if (count < 0) {
                    throw Errors.generic("snapshot listing returned count " + count, Errno.EINVAL);
                }
                room = Math.max(count, room + 1);
            }
        }
        throw Errors.generic("snapshot listing kept changing", Errno.EAGAIN);
    }

    /**
     * Waits for the next event of a snapshot.
     *
     * @param id      the snapshot
     * @param timeout how long to wait, at most about 49 days
     * @return the event, or empty if none came within the timeout (or the
     *         wait was interrupted by a signal)
     * @throws SnapshotNotFoundException if the snapshot does not exist
     * @throws BlkSnapException          for other failures
     */
    public Optional<SnapshotEvent> waitEvent(SnapshotId id, Duration timeout) throws BlkSnapException {
        Objects.requireNonNull(id, "id");
        long ms = Math.clamp(timeout.toMillis(), 0, 0xffff_ffffL);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment e = arena.allocate(Abi.BLKSNAP_SNAPSHOT_EVENT);
            id.uuid().write(e, Abi.offset(Abi.BLKSNAP_SNAPSHOT_EVENT, "id"));
            e.set(JAVA_INT, Abi.offset(Abi.BLKSNAP_SNAPSHOT_EVENT, "timeout_ms"), (int) ms);
            SysResult r = Linux.ioctl(fd.get(), Ioctl.IOCTL_BLKSNAP_SNAPSHOT_WAIT_EVENT, e);
            if (!r.ok()) {
                // ENOENT is the ABI's "no event within the timeout"; an
                // unknown snapshot is ESRCH.
                if (r.errno() == Errno.ENOENT || r.errno() == Errno.EINTR || r.errno() == Errno.ETIMEDOUT) {
                    return Optional.empty();
                }
                throw Errors.snapshot(id, "waiting for events", r.errno());
            }
            return Optional.of(Events.decode(e));
        }
    }

    /**
     * @return the raw descriptor of the control device, for the low-level
     *         API ({@link org.blksnap.api.sys.Linux}); valid until {@link #close()}
     */
    public int fd() {
        return fd.get();
    }

    /** Closes the control device. Snapshots live on in the kernel. */
    @Override
    public void close() {
        fd.close();
    }

    private static int u16(MemorySegment s, String field) {
        return Short.toUnsignedInt(s.get(JAVA_SHORT, Abi.offset(Abi.BLKSNAP_VERSION, field)));
    }
}
