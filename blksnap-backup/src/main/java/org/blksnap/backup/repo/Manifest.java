package org.blksnap.backup.repo;

import java.util.ArrayList;
import java.util.List;

/**
 * One backup in full: its summary and, per device, every chunk id.
 *
 * @param summary what the backup is
 * @param chunks  per device of the summary, in the same order, its chunk ids
 */
public record Manifest(BackupSummary summary, List<ChunkIds> chunks) {
    /** Checks that the chunk lists match the devices. */
    public Manifest {
        chunks = List.copyOf(chunks);
        if (chunks.size() != summary.devices().size()) {
            throw new IllegalArgumentException(summary.devices().size() + " devices but " + chunks.size()
                    + " chunk lists");
        }
    }

    /** @return the backup's id */
    public String id() {
        return summary.id();
    }

    /** @return bytes per chunk */
    public int chunkSize() {
        return summary.chunkSize();
    }

    /**
     * A device of the backup with its chunk ids.
     *
     * @param info   what was saved
     * @param chunks its chunk ids, in device order
     */
    public record DeviceImage(BackupSummary.DeviceSummary info, ChunkIds chunks) {
        /** @return the device as given to create */
        public String name() {
            return info.name();
        }

        /** @return its size */
        public long sizeBytes() {
            return info.sizeBytes();
        }
    }

    /** @return the devices, in order */
    public List<DeviceImage> devices() {
        List<DeviceImage> out = new ArrayList<>();
        for (int i = 0; i < chunks.size(); i++) {
            out.add(new DeviceImage(summary.devices().get(i), chunks.get(i)));
        }
        return out;
    }

    /**
     * @param name a device name as recorded
     * @return the device, or null
     */
    public DeviceImage device(String name) {
        int i = summary.deviceIndex(name);
        return i < 0 ? null : new DeviceImage(summary.devices().get(i), chunks.get(i));
    }
}
