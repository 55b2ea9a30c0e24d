package org.blksnap.backup.repo;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * What a backup is, without its chunk ids: the small record {@code list},
 * {@code latest} and retention read (one JSON object per backup, a few
 * hundred bytes whatever the device size). The same record heads the
 * backup's binary manifest.
 *
 * @param format      summary format, {@link #FORMAT}
 * @param id          the backup's id
 * @param tag         the user's label, or null
 * @param started     ISO-8601 instant of the snapshot
 * @param finished    ISO-8601 instant the backup was committed
 * @param toolVersion version of the blksnap tool that wrote it
 * @param chunkSize   bytes per chunk (the last chunk of a device may be shorter)
 * @param devices     the devices, in the order they were given
 */
public record BackupSummary(int format, String id, String tag, String started, String finished,
        String toolVersion, int chunkSize, List<DeviceSummary> devices) {
    /** The format this code writes and reads. */
    public static final int FORMAT = 2;

    /** Validates the fields. */
    public BackupSummary {
        Objects.requireNonNull(id, "id");
        devices = List.copyOf(devices);
    }

    /** @return when the snapshot was taken */
    @JsonIgnore
    public Instant startedAt() {
        return Instant.parse(started);
    }

    /**
     * @param identity a device's stable identity, or null
     * @param name     its name
     * @return the position in {@link #devices} of the same device, or -1
     * @see DeviceSummary#sameDevice(String, String)
     */
    public int deviceIndex(String identity, String name) {
        for (int i = 0; i < devices.size(); i++) {
            if (devices.get(i).sameDevice(identity, name)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * @param name a device name as recorded
     * @return its position in {@link #devices}, or -1
     */
    public int deviceIndex(String name) {
        for (int i = 0; i < devices.size(); i++) {
            if (devices.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * What was saved of one device.
     *
     * @param name          the device as given (e.g. /dev/vdb), its label
     * @param identity      its stable identity (e.g. wwn:0x5000c500a1b2c3d4), or null when it had
     *                      none (or the backup predates identities)
     * @param sizeBytes     its size
     * @param mode          "full" or "incremental"
     * @param parent        for an incremental, the backup whose chunk ids were reused
     * @param generationId  CBT generation at the take, or null without CBT
     * @param changesNumber CBT changes number the next incremental counts from
     * @param cbtBlockSize  bytes per CBT block, 0 without CBT
     * @param bytesRead     bytes read from the snapshot image
     * @param bytesStored   bytes of new chunk data this backup added to the repository
     * @param chunks        chunks of the device (its size over the chunk size, rounded up)
     */
    public record DeviceSummary(String name, String identity, long sizeBytes, String mode, String parent, String generationId,
            int changesNumber, int cbtBlockSize, long bytesRead, long bytesStored, int chunks) {
        /** Validates the fields. */
        public DeviceSummary {
            Objects.requireNonNull(name, "name");
        }

        /** @return what retention and the chain of incrementals know this device by: its identity, else its name */
        @JsonIgnore
        public String key() {
            return identity != null ? identity : name;
        }

        /**
         * Whether a device is this one: by identity when both have one, else
         * by name. Two different identities are two disks, whatever paths
         * they had.
         *
         * @param otherIdentity the other's identity, or null
         * @param otherName     the other's name
         * @return true if it is the same device
         */
        public boolean sameDevice(String otherIdentity, String otherName) {
            return identity != null && otherIdentity != null ? identity.equals(otherIdentity)
                    : name.equals(otherName);
        }
    }
}
