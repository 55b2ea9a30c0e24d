package org.blksnap.backup.repo;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * One backup: what was saved of each device, written as JSON after all its
 * chunks are durable.
 *
 * @param format      manifest format, {@link #FORMAT}
 * @param id          the backup's id, also the manifest's name
 * @param tag         the user's label, or null
 * @param started     ISO-8601 instant of the snapshot
 * @param finished    ISO-8601 instant the last chunk was durable
 * @param toolVersion version of the blksnap tool that wrote it
 * @param chunkSize   bytes per chunk (the last chunk of a device may be shorter)
 * @param devices     the devices, in the order they were given
 */
public record Manifest(int format, String id, String tag, String started, String finished, String toolVersion,
        int chunkSize, List<DeviceImage> devices) {
    /** The manifest format this code writes and reads. */
    public static final int FORMAT = 1;

    /** Validates the fields. */
    public Manifest {
        Objects.requireNonNull(id, "id");
        devices = List.copyOf(devices);
    }

    /** @return when the snapshot was taken */
    @JsonIgnore
    public Instant startedAt() {
        return Instant.parse(started);
    }

    /**
     * @param name a device name as recorded
     * @return the device, or null
     */
    public DeviceImage device(String name) {
        for (DeviceImage d : devices) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }

    /**
     * What was saved of one device.
     *
     * @param name          the device as given (e.g. /dev/vdb)
     * @param sizeBytes     its size
     * @param mode          "full" or "incremental"
     * @param parent        for an incremental, the backup whose chunks were reused
     * @param generationId  CBT generation at the take, or null without CBT
     * @param changesNumber CBT changes number the next incremental counts from
     * @param cbtBlockSize  bytes per CBT block, 0 without CBT
     * @param bytesRead     bytes read from the snapshot image
     * @param chunks        chunk ids in device order; null for an all-zero chunk
     */
    public record DeviceImage(String name, long sizeBytes, String mode, String parent, String generationId,
            int changesNumber, int cbtBlockSize, long bytesRead, List<String> chunks) {
        /** Copies the list (which may hold nulls). */
        public DeviceImage {
            Objects.requireNonNull(name, "name");
            chunks = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(chunks));
        }
    }
}
