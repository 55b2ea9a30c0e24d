package org.blksnap.api;

/** The device is already part of a snapshot or otherwise busy. */
public class DeviceBusyException extends BlkSnapException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message actionable one-line message
     * @param errno   positive error number, or 0
     */
    public DeviceBusyException(String message, int errno) {
        super(message, errno);
    }
}
