package org.blksnap.api;

import java.util.List;

/**
 * What an incremental backup must read, decided by {@link CbtMap#changesSince}.
 */
public sealed interface CbtChanges {

    /**
     * The map cannot say what changed since the previous backup: read
     * everything.
     *
     * @param reason one line for the log, starting with "full backup needed"
     */
    record FullBackupNeeded(String reason) implements CbtChanges {
    }

    /**
     * Only these extents changed.
     *
     * @param extents merged, sorted, non-overlapping byte ranges
     */
    record Incremental(List<Extent> extents) implements CbtChanges {
        /** Copies the list. */
        public Incremental {
            extents = List.copyOf(extents);
        }

        /** @return total bytes to read */
        public long bytes() {
            return extents.stream().mapToLong(Extent::length).sum();
        }
    }
}
