package org.blksnap.itest.verify;

/**
 * When a take happened, as {@link System#nanoTime()}: just before the take
 * call and just after it returned. Requests acknowledged before
 * {@code start} are before the take; requests issued after {@code end} are
 * after it; the others were in flight.
 */
public record Take(long start, long end) {
    public Take {
        if (end < start) {
            throw new IllegalArgumentException("take ends before it starts");
        }
    }
}
