package org.blksnap.cli;

/**
 * Exit statuses of the blksnap command, stable for scripts. Listed in every
 * command's help footer and the man page.
 */
public final class ExitCodes {
    /** Success. */
    public static final int OK = 0;
    /** The operation failed (the message says why). */
    public static final int FAILURE = 1;
    /** Bad command line: unknown option, missing argument, bad value. */
    public static final int USAGE = 2;
    /** The blksnap kernel module is not loaded. */
    public static final int MODULE_NOT_LOADED = 3;
    /** Not permitted: run as root. */
    public static final int PERMISSION = 4;
    /** No such device, snapshot, or filter not attached. */
    public static final int NOT_FOUND = 5;
    /** Busy or wrong state: already attached, already in a snapshot, taken twice, repository locked. */
    public static final int BUSY = 6;
    /** The snapshot broke while COMMAND ran: its images are not valid. */
    public static final int CORRUPTED = 7;
    /** The password or key file opens no key of the encrypted repository. */
    public static final int WRONG_KEY = 8;

    /** Help footer text. */
    static final String[] FOOTER = {
        "",
        "Exit status:",
        "  0  success",
        "  1  the operation failed",
        "  2  bad command line",
        "  3  blksnap module not loaded",
        "  4  permission denied (run as root)",
        "  5  no such device or snapshot, or filter not attached",
        "  6  busy or wrong state (already attached, already in a snapshot, repository in use, ...)",
        "  7  the snapshot broke while COMMAND ran (blksnap snapshot)",
        "  8  wrong password or key file for the encrypted repository",
    };

    private ExitCodes() {
    }
}
