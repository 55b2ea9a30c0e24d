package org.blksnap.bench;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The alternative a user would pick: a device-mapper snapshot with a
 * transient exception store (what LVM builds), origin and snapshot over
 * the same disks blksnap uses. Writes go to {@link #origin()}.
 */
final class DmSnapshot implements AutoCloseable {
    private static final String ORIGIN = "bench-origin";
    private static final String SNAPSHOT = "bench-snap";
    private final Path origin;

    private DmSnapshot(Path origin) {
        this.origin = origin;
    }

    /**
     * Creates the snapshot, then the origin that does the copy-on-write for it.
     *
     * @param device       the original device
     * @param cow          the exception store device
     * @param chunkSectors chunk size in 512-byte sectors
     * @return the pair; close removes both
     * @throws IOException if dmsetup fails
     */
    static DmSnapshot create(Path device, Path cow, long chunkSectors) throws IOException {
        long sectors = Guest.deviceBytes(device) / 512;
        // No udev in the guest: dmsetup must not wait for it.
        Guest.sh("dmsetup", "--noudevsync", "create", SNAPSHOT, "--table",
                "0 " + sectors + " snapshot " + device + " " + cow + " N " + chunkSectors);
        try {
            Guest.sh("dmsetup", "--noudevsync", "create", ORIGIN, "--table",
                    "0 " + sectors + " snapshot-origin " + device);
            return new DmSnapshot(Path.of("/dev/" + Guest.sh("dmsetup", "info", "-c", "--noheadings", "-o",
                    "blkdevname", ORIGIN)));
        } catch (IOException e) {
            IOException f = remove(ORIGIN, e);
            throw remove(SNAPSHOT, f);
        }
    }

    /**
     * @return the sectors the snapshot's exception store holds: proof that
     *         the writes through the origin were copied
     * @throws IOException if dmsetup fails or its status has another form
     */
    long copiedSectors() throws IOException {
        // "0 <len> snapshot <allocated>/<total> <metadata>"
        String[] f = Guest.sh("dmsetup", "status", SNAPSHOT).split("\\s+");
        if (f.length < 4 || !f[2].equals("snapshot") || !f[3].matches("\\d+/\\d+")) {
            throw new IOException("unexpected dmsetup status of " + SNAPSHOT + ": " + String.join(" ", f));
        }
        return Long.parseLong(f[3].substring(0, f[3].indexOf('/')));
    }

    /** @return the origin device, where the workload writes */
    Path origin() {
        return origin;
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        first = remove(ORIGIN, first);
        first = remove(SNAPSHOT, first);
        if (first != null) {
            throw first;
        }
    }

    private static IOException remove(String name, IOException first) {
        try {
            Guest.sh("dmsetup", "--noudevsync", "remove", name);
            return first;
        } catch (IOException e) {
            if (first == null) {
                return e;
            }
            first.addSuppressed(e);
            return first;
        }
    }
}
