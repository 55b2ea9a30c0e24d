package org.blksnap.api.sys;

/**
 * Outcome of one raw system call: the value it returned and, when it failed,
 * the {@code errno} it left behind.
 *
 * <p>Never thrown, never null: callers that want exceptions translate a
 * failed result themselves (the high-level API does so in one place).
 *
 * @param value the return value of the call, {@code -1} on failure
 * @param errno 0 on success, else the positive error number
 */
public record SysResult(long value, int errno) {

    /** @return true when the call succeeded */
    public boolean ok() {
        return errno == 0;
    }

    /** @return the value as an int, e.g. a file descriptor */
    public int intValue() {
        return Math.toIntExact(value);
    }

    @Override
    public String toString() {
        return ok() ? "ok(" + value + ")" : "failed(" + Errno.name(errno) + ")";
    }
}
