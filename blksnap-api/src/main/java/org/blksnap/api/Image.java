package org.blksnap.api;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The snapshot image of one original device.
 *
 * @param device    the original device, as given
 * @param image     the image's block device, e.g. {@code /dev/blksnap-253-0}
 * @param errorCode 0, or the negative errno that broke the snapshot
 */
public record Image(Path device, Path image, int errorCode) {
    /** Validates the fields. */
    public Image {
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(image, "image");
    }

    /** @return true when reads of the image fail because the snapshot broke */
    public boolean corrupted() {
        return errorCode != 0;
    }
}
