package org.blksnap.nbd;

import java.io.IOException;

/**
 * The client broke the protocol in a way that leaves no reply to give: bad
 * magic, unknown client flags, a length the server will not buffer. The
 * server closes the connection.
 */
public final class ProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    /** @param message what the client did wrong */
    public ProtocolException(String message) {
        super(message);
    }
}
