package org.blksnap.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * Exit statuses of the blksnap command, stable for scripts. Described once,
 * in {@link #TABLE}, which the top-level help and blksnap(8) print.
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
    /** A hook failed: pre-freeze (nothing stored) or post-thaw (the backup stored, the application maybe held). */
    public static final int HOOK_FAILED = 9;
    /** No filesystem has room for the difference storage blksnap makes when --storage is not given. */
    public static final int NO_SPACE = 10;

    /**
     * One exit status and what it means.
     *
     * @param code the status
     * @param text its meaning, one line
     */
    public record Meaning(int code, String text) {
    }

    /** The table, the one place exit statuses are described; blksnap(8) and 'blksnap --help' show it. */
    public static final List<Meaning> TABLE = List.of(
            new Meaning(OK, "success"),
            new Meaning(FAILURE, "the operation failed (the message says why)"),
            new Meaning(USAGE, "bad command line (unknown command or option, bad value) or job file"),
            new Meaning(MODULE_NOT_LOADED, "the blksnap kernel module is not loaded"),
            new Meaning(PERMISSION, "permission denied: run as root"),
            new Meaning(NOT_FOUND, "no such device or snapshot, or the filter is not attached"),
            new Meaning(BUSY, "busy: already attached or in a snapshot, device or repository in use"),
            new Meaning(CORRUPTED, "the snapshot broke while the COMMAND of 'blksnap snapshot' ran"),
            new Meaning(WRONG_KEY, "wrong password or key file for the encrypted repository"),
            new Meaning(HOOK_FAILED, "a backup hook failed (pre-freeze: nothing stored; post-thaw: stored)"),
            new Meaning(NO_SPACE, "no filesystem has room for the difference storage (no --storage given)"));

    /** @return the footer of 'blksnap --help': the whole table */
    static List<String> footer() {
        List<String> lines = new ArrayList<>(List.of("", "Exit status:"));
        for (Meaning m : TABLE) {
            lines.add("  " + m.code() + "  " + m.text());
        }
        return lines;
    }

    /** The footer of every other command: a pointer, not the table again. */
    static final List<String> SUBCOMMAND_FOOTER = List.of("",
            "Exit status: 0 on success; the others are in 'blksnap --help' and blksnap(8).");

    private ExitCodes() {
    }
}
