package org.blksnap.backup.repo;

import org.blksnap.backup.BackupException;

/** The repository is missing, not a repository, locked, or holds a damaged file. */
public class RepositoryException extends BackupException {
    private static final long serialVersionUID = 1L;

    /** @param message one line for the user */
    public RepositoryException(String message) {
        super(message);
    }

    /**
     * @param message one line for the user
     * @param cause   the underlying failure
     */
    public RepositoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
