package org.blksnap.nbd;

/**
 * The error values a reply may carry. The protocol fixes these numbers; they
 * are the Linux errno values of the same names.
 */
public enum NbdError {
    /** Operation not permitted: a write, trim or zeroing of a read-only export. */
    EPERM(1),
    /** Input/output error: the export could not be read. */
    EIO(5),
    /** Cannot allocate memory. */
    ENOMEM(12),
    /** Invalid argument: unknown command or flag, range outside the export, bad length. */
    EINVAL(22),
    /** No space left on device. */
    ENOSPC(28),
    /** Value too large: a read longer than the maximum block size. */
    EOVERFLOW(75),
    /** Operation not supported. */
    ENOTSUP(95),
    /** The server is shutting down. */
    ESHUTDOWN(108);

    private final int code;

    NbdError(int code) {
        this.code = code;
    }

    /** @return the value sent on the wire */
    public int code() {
        return code;
    }
}
