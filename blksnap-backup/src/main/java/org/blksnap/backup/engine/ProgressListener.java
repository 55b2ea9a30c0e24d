package org.blksnap.backup.engine;

/** Told how a job advances; called from several threads. */
public interface ProgressListener {
    /** Ignores everything. */
    ProgressListener NONE = new ProgressListener() {
    };

    /**
     * @param task  what starts, e.g. a device name
     * @param total bytes it will process
     */
    default void start(String task, long total) {
    }

    /**
     * @param task  the task
     * @param bytes bytes just processed
     */
    default void advance(String task, long bytes) {
    }

    /**
     * @param task      the task that ended
     * @param completed false if it failed
     */
    default void finish(String task, boolean completed) {
    }
}
