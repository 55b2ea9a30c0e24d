package org.blksnap.nbd;

/**
 * One block status descriptor: {@code length} bytes that share {@code flags}.
 *
 * @param length bytes, positive
 * @param flags  the context's status bits
 */
public record StatusExtent(long length, int flags) {
    /** Validates the length. */
    public StatusExtent {
        if (length <= 0) {
            throw new IllegalArgumentException("extent length must be positive: " + length);
        }
    }
}
