package org.blksnap.nbd;

import java.io.IOException;
import java.util.List;

/**
 * The status map of one meta context over an export.
 */
@FunctionalInterface
public interface BlockStatus {

    /**
     * Describes the bytes from {@code offset} on. The extents are consecutive,
     * start at {@code offset} and together cover at least one byte and at most
     * {@code length} bytes; the server clips and merges them before sending.
     *
     * @param offset start, inside the export
     * @param length bytes asked for, positive, not past the end
     * @return consecutive extents
     * @throws IOException failure, sent to the client as its error
     */
    List<StatusExtent> status(long offset, long length) throws IOException;

    /**
     * @param size  the export's size
     * @param flags the status of every byte
     * @return a map with the same status everywhere
     */
    static BlockStatus uniform(long size, int flags) {
        return (offset, length) -> List.of(new StatusExtent(Math.min(length, size - offset), flags));
    }
}
