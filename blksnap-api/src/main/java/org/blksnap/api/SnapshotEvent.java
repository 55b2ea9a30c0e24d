package org.blksnap.api;

/**
 * Something that happened to a snapshot, as reported by
 * {@link BlkSnap#waitEvent}. Every event carries the kernel's time label
 * (monotonic clock, nanoseconds).
 */
public sealed interface SnapshotEvent {

    /** @return when the event happened, kernel ktime in nanoseconds */
    long timeLabel();

    /**
     * The snapshot broke: its images fail with EIO from now on. The original
     * device is unaffected.
     *
     * @param major     major number of the original device
     * @param minor     minor number of the original device
     * @param errno     positive error number of the failure, e.g. 28 (ENOSPC)
     * @param timeLabel when it happened
     */
    record Corrupted(int major, int minor, int errno, long timeLabel) implements SnapshotEvent {
    }

    /**
     * The difference storage reached its limit.
     *
     * @param requestedSectors sectors the storage wanted to grow by
     * @param timeLabel        when it happened
     */
    record NoSpace(long requestedSectors, long timeLabel) implements SnapshotEvent {
    }

    /**
     * An event code this library does not know (a newer module).
     *
     * @param code      the raw code
     * @param timeLabel when it happened
     */
    record Unknown(int code, long timeLabel) implements SnapshotEvent {
    }
}
