package org.blksnap.backup.engine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.blksnap.api.BlkSnapException;
import org.blksnap.api.CbtMap;
import org.blksnap.api.DeviceIdentity;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.Image;
import org.blksnap.api.Session;
import org.blksnap.api.SnapshotEvent;
import org.blksnap.api.TakeHooks;
import org.blksnap.backup.BackupException;

/**
 * A blksnap snapshot of live devices, taken at one point in time, with each
 * device's change-tracking map read right after the take. Closing destroys
 * the snapshot; closing twice (main thread and a signal handler) is safe.
 */
public final class BlkSnapSource implements SnapshotSource {
    private final Session session;
    private final List<SourceDevice> devices;
    private boolean closed;

    private BlkSnapSource(Session session, List<SourceDevice> devices) {
        this.session = session;
        this.devices = List.copyOf(devices);
    }

    /**
     * Takes the snapshot. Filters are attached to untracked devices, so the
     * next backup can be incremental.
     *
     * @param devices    block devices
     * @param storage    difference storage
     * @param limitBytes most bytes the difference storage may take
     * @return the open source
     * @throws BlkSnapException if the snapshot cannot be taken
     */
    public static BlkSnapSource take(List<Path> devices, DiffStorage storage, long limitBytes)
            throws BlkSnapException {
        return take(devices, storage, limitBytes, TakeHooks.NONE);
    }

    /**
     * Takes the snapshot with hooks around the take (application consistency).
     *
     * @param devices    block devices
     * @param storage    difference storage
     * @param limitBytes most bytes the difference storage may take
     * @param hooks      run right before and right after the take
     * @return the open source
     * @throws BlkSnapException if the snapshot cannot be taken or a hook aborts it
     */
    public static BlkSnapSource take(List<Path> devices, DiffStorage storage, long limitBytes, TakeHooks hooks)
            throws BlkSnapException {
        return of(Session.builder().storage(storage).limit(limitBytes).devicesFrom(devices).hooks(hooks).open());
    }

    /**
     * A source over a snapshot the caller took, for a program that writes to
     * the images before they are saved (a journal replayed by mounting an
     * image read-write, as upstream blksnap allows). The change-tracking maps
     * are read now, so the blocks written to an image count as changed for
     * this backup and the next one. Takes over the session: closing the
     * source (or a failure here) destroys the snapshot.
     *
     * @param session a taken snapshot
     * @return the open source
     * @throws BlkSnapException if a device's tracking cannot be read
     */
    public static BlkSnapSource of(Session session) throws BlkSnapException {
        try {
            List<SourceDevice> out = new ArrayList<>();
            for (Image i : session.images()) {
                CbtMap cbt;
                try (Filter f = Filter.open(i.device())) {
                    cbt = CbtMap.read(f);
                }
                out.add(new SourceDevice(i.device().toString(), i.image(), cbt.info().capacityBytes(), cbt,
                        identityOf(i.device())));
            }
            return new BlkSnapSource(session, out);
        } catch (BlkSnapException | RuntimeException e) {
            try {
                session.close();
            } catch (BlkSnapException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * @param device a block device
     * @return its stable identity, or null if it has none: then its path is
     *         what its backups chain on, as for backups made before identities
     */
    static String identityOf(Path device) {
        try {
            DeviceIdentity id = DeviceIdentity.of(device);
            return id.kind() == DeviceIdentity.Kind.PATH ? null : id.id();
        } catch (IOException e) {
            // No udev links and no blkid: the path is all there is.
            return null;
        }
    }

    /** @return the snapshot's id */
    public String id() {
        return session.id().toString();
    }

    @Override
    public List<SourceDevice> devices() {
        return devices;
    }

    @Override
    public void checkIntact() throws IOException {
        for (Image i : session.refreshImages()) {
            if (i.corrupted()) {
                String why = "";
                for (SnapshotEvent e : session.events()) {
                    if (e instanceof SnapshotEvent.NoSpace) {
                        why = ": the difference storage is full (raise --limit or give a bigger --storage)";
                    }
                }
                throw new BackupException("the snapshot of " + i.device() + " broke while it was read" + why
                        + "; the backup was not saved");
            }
        }
    }

    @Override
    public synchronized void close() throws BlkSnapException {
        if (!closed) {
            closed = true;
            session.close();
        }
    }
}
