package org.blksnap.backup.repo;

/** Another process holds the repository lock incompatibly (the command's busy exit status). */
public final class RepositoryBusyException extends RepositoryException {
    private static final long serialVersionUID = 1L;

    /** @param message one line for the user, naming the repository */
    public RepositoryBusyException(String message) {
        super(message);
    }
}
