package org.blksnap.api;

/**
 * A byte range of a device.
 *
 * @param offset first byte
 * @param length number of bytes, positive
 */
public record Extent(long offset, long length) {
    /** Validates the range. */
    public Extent {
        if (offset < 0 || length <= 0) {
            throw new IllegalArgumentException("bad extent: " + offset + "+" + length);
        }
    }

    /** @return one past the last byte */
    public long end() {
        return offset + length;
    }

    /** @return the sectors covering this extent */
    public SectorRange toSectors() {
        return SectorRange.ofBytes(offset, length);
    }
}
