package org.blksnap.api;

/** The caller lacks CAP_SYS_ADMIN or access to a device node. */
public class PermissionDeniedException extends BlkSnapException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message actionable one-line message
     * @param errno   positive error number, or 0
     */
    public PermissionDeniedException(String message, int errno) {
        super(message, errno);
    }
}
