package org.blksnap.backup.engine;

import java.nio.file.Path;
import java.util.Objects;

import org.blksnap.api.CbtMap;
import org.blksnap.api.DeviceIdentity;

/**
 * One device of a {@link SnapshotSource}.
 *
 * @param name      the device as the user named it, its label in the backup
 * @param image     what to read: the snapshot image (or a file in tests)
 * @param sizeBytes bytes of the image to save
 * @param cbt       the change-tracking map read after the take, or null when
 *                  the device is not tracked
 * @param identity  its stable identity ({@link DeviceIdentity#id()}), or null
 *                  when it has none; backups chain on it, else on the name
 */
public record SourceDevice(String name, Path image, long sizeBytes, CbtMap cbt, String identity) {
    /** Validates the fields. */
    public SourceDevice {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(image, "image");
        if (sizeBytes <= 0) {
            throw new IllegalArgumentException(name + ": size must be positive, is " + sizeBytes);
        }
    }

    /**
     * A device known by its name only (an image file).
     *
     * @param name      the device's name
     * @param image     what to read
     * @param sizeBytes bytes to save
     * @param cbt       its change tracking, or null
     */
    public SourceDevice(String name, Path image, long sizeBytes, CbtMap cbt) {
        this(name, image, sizeBytes, cbt, null);
    }

    /** @return what backups of this device chain on: the identity, else the name */
    public String key() {
        return identity != null ? identity : name;
    }
}
