package org.blksnap.backup.engine;

/**
 * What a backup did with one device.
 *
 * @param name         the device
 * @param mode         "full" or "incremental"
 * @param reason       why this mode, one line
 * @param sizeBytes    device size
 * @param bytesRead    bytes read from the snapshot image
 * @param chunksRead   chunks read from the image
 * @param chunksNew    chunks stored by this backup
 * @param chunksReused chunks already in the repository (unchanged or deduplicated)
 * @param chunksZero   all-zero chunks (stored as a flag)
 * @param bytesStored  bytes of new chunk files
 */
public record DeviceResult(String name, String mode, String reason, long sizeBytes, long bytesRead, long chunksRead,
        long chunksNew, long chunksReused, long chunksZero, long bytesStored) {
}
