package org.blksnap.cli;

/** A combination of options that picocli cannot check by itself is wrong. */
public final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(message);
    }
}
