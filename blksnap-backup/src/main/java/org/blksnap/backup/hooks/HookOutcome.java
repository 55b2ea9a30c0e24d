package org.blksnap.backup.hooks;

import java.time.Duration;

/**
 * How one hook ran.
 *
 * @param name     the hook's file name
 * @param phase    the phase it ran for
 * @param status   how it ended
 * @param exitCode its exit status (-1 if it was killed or never started)
 * @param elapsed  how long it ran
 * @param detail   one line: why it failed, or empty
 */
public record HookOutcome(String name, HookPhase phase, Status status, int exitCode, Duration elapsed,
        String detail) {

    /** How a hook ended. */
    public enum Status {
        /** Exit status 0. */
        OK,
        /** Another exit status. */
        FAILED,
        /** Still running at the timeout: killed with its children. */
        TIMED_OUT,
        /** Not run: it could not be started, or is writable by others than its owner. */
        REFUSED
    }

    /** @return true unless the hook ended with exit status 0 */
    public boolean failed() {
        return status != Status.OK;
    }

    /** @return one line for the log, e.g. "hook 10-sync pre-freeze: exit status 3 after 0.1 s" */
    public String describe() {
        String how = switch (status) {
            case OK -> "done";
            case FAILED -> "exit status " + exitCode;
            case TIMED_OUT -> "timed out, killed";
            case REFUSED -> "not run";
        };
        return "hook " + name + " " + phase.word() + ": " + how + " after "
                + String.format(java.util.Locale.ROOT, "%.1f s", elapsed.toMillis() / 1000.0)
                + (detail.isEmpty() ? "" : " (" + detail + ")");
    }
}
