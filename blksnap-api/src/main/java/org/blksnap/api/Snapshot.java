package org.blksnap.api;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One snapshot: created with a difference storage, devices added, taken,
 * destroyed. Wraps the calls of {@link BlkSnap} and {@link Filter} that
 * concern a single snapshot.
 *
 * <pre>{@code
 * try (BlkSnap blksnap = BlkSnap.open()) {
 *     Snapshot s = Snapshot.create(blksnap, DiffStorage.directory(Path.of("/var/tmp")),
 *             Sizes.parseSectors("4G"));
 *     s.add(Path.of("/dev/vdb"));
 *     s.take();
 *     Path image = s.images().getFirst().image();
 *     ...
 *     s.destroy();
 * }
 * }</pre>
 */
public final class Snapshot {
    private final BlkSnap blksnap;
    private final SnapshotId id;
    private final List<Path> devices = new ArrayList<>();

    private Snapshot(BlkSnap blksnap, SnapshotId id) {
        this.blksnap = blksnap;
        this.id = id;
    }

    /**
     * Creates a new snapshot.
     *
     * @param blksnap      the control device (kept open by the caller)
     * @param storage      difference storage
     * @param limitSectors most sectors the storage may use
     * @return the snapshot, not yet taken
     * @throws BlkSnapException if the kernel refuses
     */
    public static Snapshot create(BlkSnap blksnap, DiffStorage storage, long limitSectors) throws BlkSnapException {
        return new Snapshot(blksnap, blksnap.createSnapshot(storage, limitSectors));
    }

    /**
     * Handle on an existing snapshot, e.g. one found by {@link BlkSnap#collect()}.
     * {@link #images()} knows only devices added through this handle.
     *
     * @param blksnap the control device
     * @param id      the snapshot
     * @return the handle
     */
    public static Snapshot of(BlkSnap blksnap, SnapshotId id) {
        return new Snapshot(Objects.requireNonNull(blksnap, "blksnap"), Objects.requireNonNull(id, "id"));
    }

    /** @return the identifier */
    public SnapshotId id() {
        return id;
    }

    /** @return the devices added through this handle */
    public List<Path> devices() {
        return List.copyOf(devices);
    }

    /**
     * Adds a device, attaching the blksnap filter first if it is not attached.
     * The filter stays attached afterwards so that tracking continues.
     *
     * @param device a block device
     * @throws BlkSnapException if the device cannot be added
     */
    public void add(Path device) throws BlkSnapException {
        try (Filter f = Filter.open(device)) {
            if (!f.isAttached()) {
                f.attach();
            }
            f.snapshotAdd(id);
        }
        devices.add(device);
    }

    /**
     * Takes the snapshot of all added devices at one point in time.
     *
     * @throws BlkSnapException if the take fails
     */
    public void take() throws BlkSnapException {
        blksnap.take(id);
    }

    /**
     * Destroys the snapshot; its images vanish.
     *
     * @throws BlkSnapException if the kernel refuses
     */
    public void destroy() throws BlkSnapException {
        blksnap.destroy(id);
    }

    /**
     * @return the image of every device added through this handle, in order
     * @throws BlkSnapException if a device's state cannot be read, or the
     *                          snapshot was not taken yet
     */
    public List<Image> images() throws BlkSnapException {
        List<Image> out = new ArrayList<>();
        for (Path device : devices) {
            try (Filter f = Filter.open(device)) {
                SnapshotInfo info = f.snapshotInfo();
                Path image = info.imagePath().orElseThrow(() -> new SnapshotStateException(
                        "snapshot " + id + " of " + device + " has no image: not taken yet", 0));
                out.add(new Image(device, image, info.errorCode()));
            }
        }
        return List.copyOf(out);
    }

    /**
     * @param timeout how long to wait
     * @return the next event, if one came in time
     * @throws BlkSnapException if the snapshot is gone or the call fails
     */
    public Optional<SnapshotEvent> waitEvent(Duration timeout) throws BlkSnapException {
        return blksnap.waitEvent(id, timeout);
    }

    /**
     * Delivers events to a listener from a virtual thread until the
     * returned watcher is closed.
     *
     * @param listener called for every event
     * @return the watcher; close it before closing the control device
     */
    public EventWatcher watch(Consumer<SnapshotEvent> listener) {
        return EventWatcher.start(blksnap, id, listener);
    }

    @Override
    public String toString() {
        return "Snapshot[" + id + ", " + devices + "]";
    }
}
