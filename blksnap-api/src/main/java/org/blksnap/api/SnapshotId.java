package org.blksnap.api;

import java.util.Objects;

/**
 * Identifier of a snapshot, as returned by {@link BlkSnap#createSnapshot}.
 *
 * @param uuid the kernel's 16-byte identifier
 */
public record SnapshotId(Uuid uuid) {
    /** @param uuid the kernel's 16-byte identifier */
    public SnapshotId {
        Objects.requireNonNull(uuid, "uuid");
    }

    /**
     * @param text the identifier as printed by {@link #toString()}
     * @return the identifier
     * @throws IllegalArgumentException if the text is not a uuid
     */
    public static SnapshotId parse(String text) {
        return new SnapshotId(Uuid.parse(text));
    }

    @Override
    public String toString() {
        return uuid.toString();
    }
}
