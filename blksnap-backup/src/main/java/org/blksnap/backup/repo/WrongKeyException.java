package org.blksnap.backup.repo;

/** No key of an encrypted repository opens with the password or key file given. */
public final class WrongKeyException extends RepositoryException {
    private static final long serialVersionUID = 1L;

    /** @param message one line: which repository, which secret */
    public WrongKeyException(String message) {
        super(message);
    }
}
