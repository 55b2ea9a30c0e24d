package org.blksnap.api;

/**
 * What a {@link Session} runs around the take, for applications that must
 * be brought to a consistent state on disk for the moment of the take (a
 * database flushed and held) and let go right after it.
 */
public interface TakeHooks {
    /** No hooks. */
    TakeHooks NONE = new TakeHooks() {
        @Override
        public void beforeTake(SnapshotId id) {
        }

        @Override
        public void afterTake(SnapshotId id, boolean taken) {
        }
    };

    /**
     * Runs once the snapshot exists and holds its devices, right before the
     * take. If it throws, the snapshot is destroyed without being taken, and
     * {@link #afterTake} still runs.
     *
     * @param id the snapshot about to be taken
     * @throws BlkSnapException to abort the session
     */
    void beforeTake(SnapshotId id) throws BlkSnapException;

    /**
     * Runs after {@link #beforeTake} was called, whatever happened since:
     * right after a take, and also when it or beforeTake failed. What it
     * cannot do it reports itself; it must not throw.
     *
     * @param id    the snapshot
     * @param taken true if the take succeeded
     */
    void afterTake(SnapshotId id, boolean taken);
}
