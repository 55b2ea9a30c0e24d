package org.blksnap.backup.hooks;

import org.blksnap.api.BlkSnapException;

/**
 * A hook failed, timed out or could not be run. A BlkSnapException so that
 * it aborts a take like any other failure of the take (no system call
 * failed: errno 0).
 */
public final class HookException extends BlkSnapException {
    private static final long serialVersionUID = 1L;

    /** @param message one line naming the hook and what went wrong */
    public HookException(String message) {
        super(message, 0);
    }
}
