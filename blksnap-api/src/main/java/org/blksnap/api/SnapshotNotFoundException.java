package org.blksnap.api;

/** No snapshot has the given identifier. */
public class SnapshotNotFoundException extends BlkSnapException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message actionable one-line message
     * @param errno   positive error number, or 0
     */
    public SnapshotNotFoundException(String message, int errno) {
        super(message, errno);
    }
}
