package org.blksnap.api;

/** The blksnap filter is already attached to the device. */
public class FilterAlreadyAttachedException extends BlkSnapException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message actionable one-line message
     * @param errno   positive error number, or 0
     */
    public FilterAlreadyAttachedException(String message, int errno) {
        super(message, errno);
    }
}
