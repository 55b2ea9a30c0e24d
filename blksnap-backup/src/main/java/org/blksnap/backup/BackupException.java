package org.blksnap.backup;

import java.io.IOException;

/**
 * A backup, restore, verify or prune that cannot go on. The message is one
 * line for the user and names what is wrong (the repository, the backup, the
 * chunk, the device).
 */
public class BackupException extends IOException {
    private static final long serialVersionUID = 1L;

    /** @param message one line for the user */
    public BackupException(String message) {
        super(message);
    }

    /**
     * @param message one line for the user
     * @param cause   the underlying failure
     */
    public BackupException(String message, Throwable cause) {
        super(message, cause);
    }
}
