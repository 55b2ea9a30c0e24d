package org.blksnap.cli;

import java.nio.file.Path;
import java.util.List;

import org.blksnap.backup.engine.SnapshotSource;
import org.blksnap.backup.engine.SourceDevice;

/** A "snapshot" of one image file, for backing up without the kernel. */
record FileSource(String device, Path image, long size) implements SnapshotSource {
    @Override
    public List<SourceDevice> devices() {
        return List.of(new SourceDevice(device, image, size, null));
    }

    @Override
    public void checkIntact() {
    }

    @Override
    public void close() {
    }
}
