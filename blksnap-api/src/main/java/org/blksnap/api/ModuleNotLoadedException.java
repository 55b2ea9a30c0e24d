package org.blksnap.api;

/** The blksnap kernel module is not loaded (or the kernel lacks the filter hook). */
public class ModuleNotLoadedException extends BlkSnapException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message actionable one-line message
     * @param errno   positive error number, or 0
     */
    public ModuleNotLoadedException(String message, int errno) {
        super(message, errno);
    }
}
