package org.blksnap.cli.commands;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

import org.blksnap.nbd.BlockStatus;
import org.blksnap.nbd.ChangedBlocks;
import org.blksnap.nbd.Export;
import org.blksnap.nbd.ExportException;
import org.blksnap.nbd.FileExport;
import org.blksnap.nbd.NbdError;

/**
 * The image of one device of a live snapshot, with its CBT as
 * {@code blksnap:changed:<N>}. Once the snapshot broke (difference storage
 * full) every read fails with EIO and says why, instead of whatever the image
 * device would return.
 */
final class SnapshotImageExport implements Export, AutoCloseable {
    private final FileExport image;
    private final OptionalInt since;
    private volatile String broken;

    /**
     * @param image the image device's export
     * @param since the one changes number to list, or empty to list all
     */
    SnapshotImageExport(FileExport image, OptionalInt since) {
        this.image = image;
        this.since = since;
    }

    /** From now on reads fail with EIO and {@code why}. */
    void markBroken(String why) {
        broken = why;
    }

    @Override
    public long size() {
        return image.size();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        String why = broken;
        if (why != null) {
            throw new ExportException(NbdError.EIO, why);
        }
        image.read(offset, dst);
        why = broken;
        if (why != null) {
            // The storage filled up during the read: what was read may already be wrong.
            throw new ExportException(NbdError.EIO, why);
        }
    }

    @Override
    public String description() {
        return image.description();
    }

    @Override
    public Optional<BlockStatus> metaContext(String name) {
        return image.metaContext(name);
    }

    @Override
    public List<String> metaContextNames() {
        return since.isPresent() ? List.of(ChangedBlocks.name(since.getAsInt())) : image.metaContextNames();
    }

    @Override
    public void close() throws IOException {
        image.close();
    }
}
