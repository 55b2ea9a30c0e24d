package org.blksnap.backup.engine;

import java.nio.file.Path;
import java.util.Objects;

import org.blksnap.api.CbtMap;

/**
 * One device of a {@link SnapshotSource}.
 *
 * @param name      the device as the user named it; backups of the same name
 *                  form a chain
 * @param image     what to read: the snapshot image (or a file in tests)
 * @param sizeBytes bytes of the image to save
 * @param cbt       the change-tracking map read after the take, or null when
 *                  the device is not tracked
 */
public record SourceDevice(String name, Path image, long sizeBytes, CbtMap cbt) {
    /** Validates the fields. */
    public SourceDevice {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(image, "image");
        if (sizeBytes <= 0) {
            throw new IllegalArgumentException(name + ": size must be positive, is " + sizeBytes);
        }
    }
}
