package org.blksnap.api;

import java.io.IOException;

import org.blksnap.api.sys.Errno;

/**
 * A blksnap operation failed. The message is one line a person can act on;
 * {@link #errno()} is the error number the kernel reported (0 when the
 * failure was found before any system call).
 */
public class BlkSnapException extends IOException {
    private static final long serialVersionUID = 1L;

    private final int errno;

    /**
     * @param message actionable one-line message
     * @param errno   positive error number, or 0
     */
    public BlkSnapException(String message, int errno) {
        super(message);
        this.errno = errno;
    }

    /** @return the positive error number, or 0 if no system call failed */
    public int errno() {
        return errno;
    }

    /** @return the symbolic error name, e.g. "EPERM", or "" */
    public String errnoName() {
        return errno == 0 ? "" : Errno.name(errno);
    }
}
