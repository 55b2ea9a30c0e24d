package org.blksnap.nbd;

import java.util.Optional;

/**
 * Told when clients come and go, e.g. to end a serve when the last one leaves.
 * Called on the connection's own thread.
 */
public interface ConnectionListener {

    /**
     * A client connected.
     *
     * @param id     the connection's number, from 1
     * @param active connections open now, this one included
     */
    default void connected(long id, int active) {
    }

    /**
     * A client's connection ended.
     *
     * @param id      the connection's number
     * @param active  connections still open
     * @param failure why it ended when not by the client's choice (protocol
     *                violation, I/O error)
     */
    default void disconnected(long id, int active, Optional<Throwable> failure) {
    }
}
