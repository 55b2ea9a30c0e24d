package org.blksnap.api;

import java.util.Objects;

/**
 * State of the change-block tracker of one device ({@code struct blksnap_cbtinfo}).
 *
 * @param capacityBytes size of the device in bytes
 * @param blockSize     bytes covered by one byte of the CBT map
 * @param blockCount    number of bytes in the CBT map
 * @param generationId  changes when earlier maps stop being comparable:
 *                      a new value means a full backup is due
 * @param changesNumber the number stamped on blocks changed before the
 *                      last take (0..255)
 */
public record CbtInfo(long capacityBytes, int blockSize, int blockCount, Uuid generationId, int changesNumber) {
    /** Validates the fields. */
    public CbtInfo {
        Objects.requireNonNull(generationId, "generationId");
    }
}
