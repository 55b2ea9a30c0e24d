package org.blksnap.api;

/** A path given as a device is missing or is not a block device. */
public class NotBlockDeviceException extends BlkSnapException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message actionable one-line message
     * @param errno   positive error number, or 0
     */
    public NotBlockDeviceException(String message, int errno) {
        super(message, errno);
    }
}
