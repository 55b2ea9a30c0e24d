package org.blksnap.backup.retention;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * What retention needs to know of one backup, and nothing more: any record
 * of a backup (a manifest, a summary) can be turned into one.
 *
 * @param id      the backup's id
 * @param time    when its snapshot was taken
 * @param devices the stable identities of the devices it holds
 * @param tags    its tags, possibly none
 */
public record Snapshot(String id, Instant time, SortedSet<String> devices, SortedSet<String> tags) {
    /** Validates and copies. */
    public Snapshot {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(time, "time");
        devices = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(devices));
        tags = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(tags));
        if (devices.isEmpty()) {
            throw new IllegalArgumentException("backup " + id + " holds no device");
        }
    }

    /**
     * @param id      the backup's id
     * @param time    when its snapshot was taken
     * @param devices device identities
     * @param tags    tags
     * @return the snapshot
     */
    public static Snapshot of(String id, Instant time, List<String> devices, List<String> tags) {
        return new Snapshot(id, time, new TreeSet<>(devices), new TreeSet<>(tags));
    }
}
