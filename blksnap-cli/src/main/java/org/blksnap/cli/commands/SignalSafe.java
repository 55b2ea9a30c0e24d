package org.blksnap.cli.commands;

import java.io.IOException;

import org.blksnap.backup.engine.BlkSnapSource;

/**
 * Holds a snapshot for the length of some work and destroys it exactly once,
 * from the main thread or from the shutdown hook (Ctrl-C, SIGTERM, SIGHUP),
 * whichever comes first. Taking the snapshot holds the same lock, so a signal
 * during the take waits for it and then undoes it.
 *
 * @param <T> what the work returns
 */
abstract class SignalSafe<T> {
    private BlkSnapSource source;
    private boolean done;

    /** @return the taken snapshot */
    abstract BlkSnapSource open() throws IOException;

    /** The work, on the calling thread. */
    abstract T use(BlkSnapSource s) throws IOException;

    /** Asks the work to stop; called from the shutdown hook. */
    abstract void interrupted();

    T run() throws IOException {
        Thread hook = Thread.ofPlatform().name("blksnap-cleanup").unstarted(() -> {
            interrupted();
            close();
        });
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            BlkSnapSource s;
            synchronized (this) {
                if (done) {
                    throw new IOException("interrupted before the snapshot was taken");
                }
                source = open();
                s = source;
            }
            return use(s);
        } finally {
            close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running or ran already: it did the cleanup.
            }
        }
    }

    private synchronized void close() {
        if (done) {
            return;
        }
        done = true;
        if (source != null) {
            try {
                source.close();
            } catch (IOException e) {
                System.err.println("blksnap: could not destroy snapshot " + source.id() + ": " + e.getMessage()
                        + " (retry: blksnap snapshot_destroy --id " + source.id() + ")");
            }
        }
    }
}
