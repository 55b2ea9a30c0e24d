package org.blksnap.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The scratch disks of a run and what each is for.
 *
 * @param main    the measured device: bare, tracked, snapshotted, dm origin
 * @param storage the difference storage of blksnap and the COW store of dm-snapshot
 * @param extra   three more devices for the 4-device take
 */
public record Disks(Path main, Path storage, List<Path> extra) {

    /** Validates the fields. */
    public Disks {
        Objects.requireNonNull(main, "main");
        Objects.requireNonNull(storage, "storage");
        extra = List.copyOf(extra);
    }

    /** @return main and the extra devices: the 4-device take set */
    public List<Path> takeSet() {
        List<Path> all = new ArrayList<>();
        all.add(main);
        all.addAll(extra);
        return all;
    }

    /** @return every disk */
    public List<Path> all() {
        List<Path> all = takeSet();
        all.add(storage);
        return all;
    }

    /**
     * Refuses disks too small for the profile, with a message that says which.
     *
     * @throws IOException if one is missing or too small
     */
    public void check(Profile p) throws IOException {
        need(main, p.regionBytes(), "the measured disk");
        // Every chunk of the region may be copied, plus the store's own overhead.
        need(storage, p.regionBytes() + p.regionBytes() / 8, "the difference storage disk");
        for (Path d : extra) {
            need(d, p.regionBytes() / 4, "a take-latency disk");
        }
    }

    private static void need(Path device, long bytes, String role) throws IOException {
        long have = Guest.deviceBytes(device);
        if (have < bytes) {
            throw new IOException(role + " " + device + " has " + (have >> 20) + " MiB; the profile needs "
                    + (bytes >> 20) + " MiB");
        }
    }

    /** @return "vda: measured, vdb: storage, ..." for the results */
    public String describe() {
        return main + ": measured; " + storage + ": blksnap difference storage and dm-snapshot COW; " + extra
                + ": more devices for the 4-device take";
    }
}
