package org.blksnap.cli.job;

/** A job file that cannot be used: one line naming the file, the key and what is wrong (exit status 2). */
public final class JobFileException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** @param message one line for the user */
    public JobFileException(String message) {
        super(message);
    }
}
