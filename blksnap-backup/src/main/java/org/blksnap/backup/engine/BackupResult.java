package org.blksnap.backup.engine;

import java.time.Duration;
import java.util.List;

/**
 * What a backup did.
 *
 * @param backupId the new backup's id
 * @param devices  per device, in order
 * @param elapsed  wall time from the first read to the durable manifest
 */
public record BackupResult(String backupId, List<DeviceResult> devices, Duration elapsed) {
    /** Copies the list. */
    public BackupResult {
        devices = List.copyOf(devices);
    }

    /** @return bytes read from all images */
    public long bytesRead() {
        return devices.stream().mapToLong(DeviceResult::bytesRead).sum();
    }

    /** @return bytes of new chunk files */
    public long bytesStored() {
        return devices.stream().mapToLong(DeviceResult::bytesStored).sum();
    }
}
