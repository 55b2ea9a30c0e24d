package org.blksnap.api;

/** The snapshot is in the wrong state for the request, e.g. taken twice. */
public class SnapshotStateException extends BlkSnapException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message actionable one-line message
     * @param errno   positive error number, or 0
     */
    public SnapshotStateException(String message, int errno) {
        super(message, errno);
    }
}
