package org.blksnap.api;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A taken snapshot for the length of a try block: the usual way to back up
 * live devices.
 *
 * <pre>{@code
 * try (Session s = Session.builder()
 *         .device(Path.of("/dev/vdb"))
 *         .storage(DiffStorage.directory(Path.of("/var/tmp")))
 *         .limit(Sizes.parseBytes("4G"))
 *         .open()) {
 *     for (Image i : s.images()) {
 *         copy(i.image());
 *     }
 * }   // snapshot destroyed here, whatever happened
 * }</pre>
 *
 * <p>A watcher on a virtual thread receives the snapshot's events (storage
 * overflow, corruption) and hands them to the listener; {@link #events()}
 * keeps them too.
 */
public final class Session implements AutoCloseable {
    private final BlkSnap blksnap;
    private final Snapshot snapshot;
    private final List<Image> images;
    private final EventWatcher watcher;
    private final SnapshotOwners owners;
    private boolean closed;

    private Session(BlkSnap blksnap, Snapshot snapshot, List<Image> images, EventWatcher watcher,
            SnapshotOwners owners) {
        this.blksnap = blksnap;
        this.snapshot = snapshot;
        this.images = images;
        this.watcher = watcher;
        this.owners = owners;
    }

    /** @return a builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the snapshot's identifier */
    public SnapshotId id() {
        return snapshot.id();
    }

    /** @return the images, in the order the devices were given */
    public List<Image> images() {
        return images;
    }

    /**
     * @return the current state of every image (the error code may have
     *         changed since the take)
     * @throws BlkSnapException if a device cannot be asked
     */
    public List<Image> refreshImages() throws BlkSnapException {
        return snapshot.images();
    }

    /** @return the events received so far */
    public List<SnapshotEvent> events() {
        return watcher.events();
    }

    /**
     * Stops the watcher, destroys the snapshot and closes the control device.
     *
     * @throws BlkSnapException if the destroy fails (the control device is
     *                          closed anyway)
     */
    @Override
    public void close() throws BlkSnapException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            watcher.close();
            snapshot.destroy();
            release(owners, snapshot.id());
        } finally {
            blksnap.close();
        }
    }

    private static void claim(SnapshotOwners owners, SnapshotId id) throws BlkSnapException {
        try {
            owners.claim(id);
        } catch (java.io.IOException e) {
            throw new BlkSnapException("cannot record the owner of snapshot " + id + ": " + e.getMessage(), 0);
        }
    }

    /** A record left behind is harmless: cleanup drops records of snapshots that are gone. */
    private static void release(SnapshotOwners owners, SnapshotId id) {
        try {
            owners.release(id);
        } catch (java.io.IOException e) {
            // Dropped by the next cleanup.
        }
    }

    /**
     * The take, with the hooks around it: the application is held for as
     * short a time as possible, and is let go whatever happened.
     */
    private static void takeBetween(Snapshot snapshot, TakeHooks hooks) throws BlkSnapException {
        boolean taken = false;
        try {
            hooks.beforeTake(snapshot.id());
            snapshot.take();
            taken = true;
        } finally {
            hooks.afterTake(snapshot.id(), taken);
        }
    }

    /** Collects the parameters of a session. */
    public static final class Builder {
        private final List<Path> devices = new ArrayList<>();
        private DiffStorage storage;
        private long limitBytes;
        private Consumer<SnapshotEvent> listener = e -> { };
        private SnapshotOwners owners = SnapshotOwners.system();
        private TakeHooks hooks = TakeHooks.NONE;

        private Builder() {
        }

        /**
         * @param owners where the session records that this process owns its
         *               snapshot (default {@link SnapshotOwners#system()})
         * @return this
         */
        public Builder owners(SnapshotOwners owners) {
            this.owners = Objects.requireNonNull(owners, "owners");
            return this;
        }

        /** @param device a block device to snapshot; repeatable @return this */
        public Builder device(Path device) {
            devices.add(Objects.requireNonNull(device, "device"));
            return this;
        }

        /** @param devices more block devices to snapshot @return this */
        public Builder devicesFrom(java.util.Collection<Path> devices) {
            devices.forEach(this::device);
            return this;
        }

        /** @param storage difference storage @return this */
        public Builder storage(DiffStorage storage) {
            this.storage = Objects.requireNonNull(storage, "storage");
            return this;
        }

        /** @param bytes most bytes the difference storage may use @return this */
        public Builder limit(long bytes) {
            this.limitBytes = bytes;
            return this;
        }

        /**
         * @param hooks run right before the take and right after it (also
         *              when the take fails)
         * @return this
         */
        public Builder hooks(TakeHooks hooks) {
            this.hooks = Objects.requireNonNull(hooks, "hooks");
            return this;
        }

        /** @param listener called on a virtual thread for every event @return this */
        public Builder onEvent(Consumer<SnapshotEvent> listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /**
         * Creates the snapshot, adds the devices, takes it and starts the
         * watcher. On any failure everything done so far is undone.
         *
         * @return the open session
         * @throws BlkSnapException if a step fails
         */
        public Session open() throws BlkSnapException {
            if (devices.isEmpty()) {
                throw new BlkSnapException("a snapshot needs at least one device", 0);
            }
            if (storage == null) {
                throw new DiffStorageException("a snapshot needs a difference storage", 0);
            }
            if (limitBytes <= 0) {
                throw new DiffStorageException("the difference storage limit must be positive", 0);
            }
            BlkSnap blksnap = BlkSnap.open();
            Snapshot snapshot = null;
            try {
                snapshot = Snapshot.create(blksnap, storage, Math.ceilDiv(limitBytes, SectorRange.SECTOR_SIZE));
                // Recorded at once: a SIGKILL from now on leaves a snapshot
                // that 'blksnap snapshot cleanup' can tell is abandoned.
                claim(owners, snapshot.id());
                for (Path d : devices) {
                    snapshot.add(d);
                }
                takeBetween(snapshot, hooks);
                List<Image> images = snapshot.images();
                EventWatcher watcher = snapshot.watch(listener);
                return new Session(blksnap, snapshot, images, watcher, owners);
            } catch (BlkSnapException | RuntimeException e) {
                if (snapshot != null) {
                    try {
                        snapshot.destroy();
                        release(owners, snapshot.id());
                    } catch (BlkSnapException suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
                blksnap.close();
                throw e;
            }
        }
    }
}
