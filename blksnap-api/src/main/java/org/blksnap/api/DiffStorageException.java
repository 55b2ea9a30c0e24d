package org.blksnap.api;

/** The difference storage could not be used (missing, too small, full). */
public class DiffStorageException extends BlkSnapException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message actionable one-line message
     * @param errno   positive error number, or 0
     */
    public DiffStorageException(String message, int errno) {
        super(message, errno);
    }
}
