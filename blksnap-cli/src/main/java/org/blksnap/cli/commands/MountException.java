package org.blksnap.cli.commands;

import java.io.IOException;

/** A mount point of {@code backup mount} or {@code backup umount} is not in the state the command needs. */
public sealed class MountException extends IOException {
    private static final long serialVersionUID = 1L;

    MountException(String message) {
        super(message);
    }

    /** Something is mounted there already, or it is in use (exit status 6). */
    public static final class Busy extends MountException {
        private static final long serialVersionUID = 1L;

        Busy(String message) {
            super(message);
        }
    }

    /** No backup is mounted there (exit status 5). */
    public static final class NotMounted extends MountException {
        private static final long serialVersionUID = 1L;

        NotMounted(String message) {
            super(message);
        }
    }
}
