package org.blksnap.api;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * Who owns which kernel snapshot: one small file per snapshot, written right
 * after the snapshot is created and removed right after it is destroyed,
 * naming the owning process by pid <em>and</em> start time (a pid alone is
 * reused) and the boot it belongs to.
 *
 * <p>A process killed with SIGKILL cannot destroy its snapshot, and the
 * snapshot would make every first write to its devices pay copy-on-write
 * until someone destroys it. {@link #cleanup} finds such snapshots (the
 * owner is gone) and destroys them. A snapshot whose owner lives, or that
 * has no record (made by another tool, or in the instant between create and
 * record), is never touched.
 *
 * <p>The records live in {@code /run/blksnap/owners}: {@code /run} is
 * cleared at boot, as kernel snapshots are.
 */
public final class SnapshotOwners {
    /** Where the records of this machine live. */
    public static final Path SYSTEM_DIR = Path.of("/run/blksnap/owners");

    private final Path dir;

    /** @param dir the directory of the records */
    public SnapshotOwners(Path dir) {
        this.dir = dir;
    }

    /** @return the records of this machine */
    public static SnapshotOwners system() {
        return new SnapshotOwners(SYSTEM_DIR);
    }

    /**
     * A process as the kernel knows it, unambiguous within one boot.
     *
     * @param pid       process id
     * @param startTime start time in clock ticks since boot (field 22 of /proc/PID/stat)
     * @param bootId    /proc/sys/kernel/random/boot_id of the boot it ran in
     */
    public record Owner(long pid, long startTime, String bootId) {
        /**
         * @return this process
         * @throws IOException if /proc cannot be read
         */
        public static Owner self() throws IOException {
            long pid = ProcessHandle.current().pid();
            return new Owner(pid, processStart(pid).orElseThrow(), currentBootId());
        }

        /**
         * @return true if this very process still runs: same boot, same pid,
         *         same start time
         * @throws IOException if /proc cannot be read
         */
        public boolean alive() throws IOException {
            return bootId.equals(currentBootId()) && processStart(pid).equals(Optional.of(startTime));
        }
    }

    /**
     * What {@link #cleanup} found.
     *
     * @param destroyed snapshots whose owner was gone, now destroyed
     * @param owned     snapshots whose owner still runs, left alone
     * @param unowned   snapshots without a record, left alone
     */
    public record Report(List<SnapshotId> destroyed, List<SnapshotId> owned, List<SnapshotId> unowned) {
        /** Copies. */
        public Report {
            destroyed = List.copyOf(destroyed);
            owned = List.copyOf(owned);
            unowned = List.copyOf(unowned);
        }
    }

    /**
     * Records this process as the owner of a snapshot.
     *
     * @param id the snapshot, just created
     * @throws IOException if the record cannot be written
     */
    public void claim(SnapshotId id) throws IOException {
        write(id, Owner.self());
    }

    /**
     * @param id    a snapshot
     * @param owner its owner
     * @throws IOException if the record cannot be written
     */
    void write(SnapshotId id, Owner owner) throws IOException {
        Files.createDirectories(dir);
        Properties p = new Properties();
        p.setProperty("pid", Long.toString(owner.pid()));
        p.setProperty("start_time", Long.toString(owner.startTime()));
        p.setProperty("boot_id", owner.bootId());
        Path tmp = dir.resolve("." + id + ".tmp");
        try (Writer w = Files.newBufferedWriter(tmp)) {
            p.store(w, "owner of blksnap snapshot " + id);
        }
        // Renamed into place: a reader never sees half a record.
        Files.move(tmp, file(id), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Forgets the record of a destroyed snapshot.
     *
     * @param id the snapshot
     * @throws IOException if the record cannot be removed
     */
    public void release(SnapshotId id) throws IOException {
        Files.deleteIfExists(file(id));
    }

    /**
     * @param id a snapshot
     * @return its recorded owner, or empty if there is no (readable) record
     * @throws IOException if the directory cannot be read
     */
    public Optional<Owner> owner(SnapshotId id) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file(id))) {
            p.load(r);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        try {
            return Optional.of(new Owner(Long.parseLong(p.getProperty("pid")),
                    Long.parseLong(p.getProperty("start_time")), p.getProperty("boot_id", "")));
        } catch (NumberFormatException | NullPointerException e) {
            // A damaged record proves no ownership either way: treat as none.
            return Optional.empty();
        }
    }

    /**
     * Destroys the snapshots whose recorded owner is gone, and drops the
     * records of snapshots that no longer exist.
     *
     * @param blksnap the control device
     * @return what was found and done
     * @throws BlkSnapException if the kernel refuses a destroy
     * @throws IOException if the records cannot be read
     */
    public Report cleanup(BlkSnap blksnap) throws IOException {
        List<SnapshotId> existing = blksnap.collect();
        List<SnapshotId> destroyed = new ArrayList<>();
        List<SnapshotId> owned = new ArrayList<>();
        List<SnapshotId> unowned = new ArrayList<>();
        for (SnapshotId id : existing) {
            Optional<Owner> owner = owner(id);
            if (owner.isEmpty()) {
                unowned.add(id);
            } else if (owner.get().alive()) {
                owned.add(id);
            } else {
                try {
                    blksnap.destroy(id);
                } catch (SnapshotNotFoundException raced) {
                    // Its owner's cleanup, or another cleanup, was first.
                }
                release(id);
                destroyed.add(id);
            }
        }
        if (Files.isDirectory(dir)) {
            try (var files = Files.list(dir)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    String name = f.getFileName().toString();
                    if (!name.startsWith(".") && existing.stream().noneMatch(id -> id.toString().equals(name))) {
                        Files.deleteIfExists(f);
                    }
                }
            }
        }
        return new Report(destroyed, owned, unowned);
    }

    private Path file(SnapshotId id) {
        return dir.resolve(id.toString());
    }

    /** @return the start time of a process in clock ticks since boot, or empty if it does not exist */
    static Optional<Long> processStart(long pid) throws IOException {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            // A process that exits between open and read makes the read fail with ESRCH.
            if (Files.exists(Path.of("/proc", Long.toString(pid)))) {
                throw e;
            }
            return Optional.empty();
        }
        // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Optional.of(Long.parseLong(f[19]));
    }

    private static String currentBootId() throws IOException {
        return Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
    }
}
