package org.blksnap.api;

/**
 * A range of 512-byte sectors ({@code struct blksnap_sectors}).
 *
 * @param offset first sector, non-negative
 * @param count  number of sectors, positive
 */
public record SectorRange(long offset, long count) {
    /** Bytes in a sector. */
    public static final int SECTOR_SIZE = 512;

    /**
     * @param offset first sector, non-negative
     * @param count  number of sectors, positive
     */
    public SectorRange {
        if (offset < 0) {
            throw new IllegalArgumentException("sector offset must not be negative: " + offset);
        }
        if (count <= 0) {
            throw new IllegalArgumentException("sector count must be positive: " + count);
        }
        if (offset + count < 0) {
            throw new IllegalArgumentException("sector range overflows: " + offset + "+" + count);
        }
    }

    /**
     * The smallest sector range covering a byte range.
     *
     * @param offset first byte
     * @param length bytes, positive
     * @return the covering range
     */
    public static SectorRange ofBytes(long offset, long length) {
        if (offset < 0 || length <= 0) {
            throw new IllegalArgumentException("bad byte range: " + offset + "+" + length);
        }
        long first = offset / SECTOR_SIZE;
        long end = Math.ceilDiv(offset + length, SECTOR_SIZE);
        return new SectorRange(first, end - first);
    }

    /** @return one past the last sector */
    public long end() {
        return offset + count;
    }
}
