package org.blksnap.api;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Snapshot state of one device ({@code struct blksnap_snapshotinfo}).
 *
 * @param errorCode 0, or the negative errno that broke the snapshot
 *                  (e.g. -28 ENOSPC when the difference storage overflowed)
 * @param image     name of the image block device, e.g.
 *                  {@code "blksnap-253-0"}; empty until the snapshot is taken
 */
public record SnapshotInfo(int errorCode, String image) {
    /** Validates the fields. */
    public SnapshotInfo {
        Objects.requireNonNull(image, "image");
    }

    /** @return true when the snapshot of this device is broken */
    public boolean corrupted() {
        return errorCode != 0;
    }

    /** @return the image's device node, e.g. {@code /dev/blksnap-253-0}, once taken */
    public Optional<Path> imagePath() {
        return image.isEmpty() ? Optional.empty() : Optional.of(Path.of("/dev", image));
    }
}
