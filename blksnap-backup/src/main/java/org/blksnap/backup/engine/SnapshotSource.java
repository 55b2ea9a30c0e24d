package org.blksnap.backup.engine;

import java.io.IOException;
import java.util.List;

import org.blksnap.backup.BackupException;

/**
 * A consistent point-in-time view of one or more devices: the images to read
 * and what change tracking knows about them. The real one is a blksnap
 * snapshot ({@link BlkSnapSource}); host tests use files.
 */
public interface SnapshotSource extends AutoCloseable {

    /** @return the devices, in the order they were given */
    List<SourceDevice> devices();

    /**
     * Called after every image was read and before the backup becomes
     * visible: fails if the snapshot broke meanwhile (e.g. its difference
     * storage filled up), since the data read may then be wrong.
     *
     * @throws BackupException if the images are no longer valid
     * @throws IOException if the state cannot be asked
     */
    void checkIntact() throws IOException;

    /** Releases the snapshot (destroys it). Safe to call more than once. */
    @Override
    void close() throws IOException;
}
