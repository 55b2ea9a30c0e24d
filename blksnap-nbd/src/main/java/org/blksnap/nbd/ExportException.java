package org.blksnap.nbd;

import java.io.IOException;
import java.util.Objects;

/**
 * An export could not do what a request asked; the client gets
 * {@link #error()} in its reply and the message in a structured error chunk.
 */
public class ExportException extends IOException {
    private static final long serialVersionUID = 1L;

    private final NbdError error;

    /**
     * @param error   the error sent to the client
     * @param message one line saying what went wrong
     */
    public ExportException(NbdError error, String message) {
        super(message);
        this.error = Objects.requireNonNull(error, "error");
    }

    /**
     * @param error   the error sent to the client
     * @param message one line saying what went wrong
     * @param cause   the underlying failure
     */
    public ExportException(NbdError error, String message, Throwable cause) {
        super(message, cause);
        this.error = Objects.requireNonNull(error, "error");
    }

    /** @return the error sent to the client */
    public NbdError error() {
        return error;
    }
}
