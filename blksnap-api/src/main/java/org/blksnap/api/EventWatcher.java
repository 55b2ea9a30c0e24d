package org.blksnap.api;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Waits for the events of one snapshot on a virtual thread and hands each to
 * a listener. Stops when closed or when the snapshot disappears.
 */
public final class EventWatcher implements AutoCloseable {
    /** How long one wait lasts: bounds how late {@link #close()} returns. */
    static final Duration POLL = Duration.ofMillis(250);

    private final BlkSnap blksnap;
    private final SnapshotId id;
    private final Consumer<SnapshotEvent> listener;
    private final List<SnapshotEvent> seen = new ArrayList<>();
    private final Thread thread;
    private volatile boolean stop;
    private volatile BlkSnapException failure;

    private EventWatcher(BlkSnap blksnap, SnapshotId id, Consumer<SnapshotEvent> listener) {
        this.blksnap = blksnap;
        this.id = id;
        this.listener = listener;
        this.thread = Thread.ofVirtual().name("blksnap-events-" + id).unstarted(this::run);
    }

    /**
     * Starts watching.
     *
     * @param blksnap  the control device, kept open by the caller while watching
     * @param id       the snapshot
     * @param listener called on the watcher thread for every event
     * @return the running watcher
     */
    public static EventWatcher start(BlkSnap blksnap, SnapshotId id, Consumer<SnapshotEvent> listener) {
        EventWatcher w = new EventWatcher(Objects.requireNonNull(blksnap, "blksnap"),
                Objects.requireNonNull(id, "id"), Objects.requireNonNull(listener, "listener"));
        w.thread.start();
        return w;
    }

    private void run() {
        while (!stop) {
            try {
                blksnap.waitEvent(id, POLL).ifPresent(this::deliver);
            } catch (SnapshotNotFoundException gone) {
                return;
            } catch (BlkSnapException e) {
                failure = e;
                return;
            } catch (IllegalStateException closed) {
                return;
            }
        }
    }

    private void deliver(SnapshotEvent e) {
        synchronized (seen) {
            seen.add(e);
        }
        listener.accept(e);
    }

    /** @return the events delivered so far */
    public List<SnapshotEvent> events() {
        synchronized (seen) {
            return List.copyOf(seen);
        }
    }

    /** @return true while the watcher thread runs */
    public boolean running() {
        return thread.isAlive();
    }

    /** @return the failure that stopped the watcher early, if any */
    public java.util.Optional<BlkSnapException> failure() {
        return java.util.Optional.ofNullable(failure);
    }

    /** Stops the watcher and waits for its thread. */
    @Override
    public void close() {
        stop = true;
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
