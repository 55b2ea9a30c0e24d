package org.blksnap.cli.commands;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import org.blksnap.api.DiffStorage;
import org.blksnap.api.Sizes;
import org.blksnap.api.sys.Errno;
import org.blksnap.api.sys.Linux;
import org.blksnap.api.sys.SysResult;
import org.blksnap.cli.NoStorageSpaceException;

/**
 * The difference storage that 'backup create', 'snapshot' and 'serve' make
 * when no --storage is given: a file allocated in full with fallocate on the
 * mounted ext2/3/4 or xfs filesystem with the most free space, whether or
 * not it is on a device being snapshotted (there the kernel pins the file
 * and writes its sectors directly, module/README.md), and removed once the
 * snapshot is gone. Those filesystems are the ones whose file the kernel can
 * pin; any other (tmpfs, btrfs) is only used when given with --storage.
 *
 * <p>The file is named {@code .blksnap-storage-BOOT-PID} at the top of the
 * filesystem, BOOT the first 8 digits of the kernel's boot id. One left by a
 * blksnap that died is removed by the next run: after a power loss because
 * it names another boot (a process number alone is no proof: a machine that
 * runs the same units at each boot gives the next blksnap the same number,
 * which would keep the file and refuse to make its own), after SIGKILL once
 * no live process has that number.
 */
final class PreallocatedStorage implements AutoCloseable {
    static final String PREFIX = ".blksnap-storage-";
    /** BOOT-PID; names without BOOT, from before boot ids were used, are PID alone. */
    private static final Pattern NAME = Pattern.compile(Pattern.quote(PREFIX) + "(?:([0-9a-f]{8})-)?(\\d+)");
    /** Filesystems whose files the kernel can pin as storage. */
    static final Set<String> KINDS = Set.of("ext2", "ext3", "ext4", "xfs");
    private static final long ALIGN = 1L << 20;

    /**
     * A mounted filesystem that could hold the storage.
     *
     * @param point     where it is mounted
     * @param type      its type, one of {@link #KINDS}
     * @param device    major:minor of its device
     * @param freeBytes space left for root to use (0 until measured)
     */
    record Mount(Path point, String type, String device, long freeBytes) {
    }

    /**
     * The storage a command uses, and the file made for it if any.
     *
     * @param storage what the snapshot gets
     * @param made    the file blksnap made, removed on close; null if the user gave --storage
     */
    record Choice(DiffStorage storage, PreallocatedStorage made) implements AutoCloseable {
        /** Removes the file blksnap made; call once the snapshot is destroyed (the kernel unpins it then). */
        @Override
        public void close() throws IOException {
            if (made != null) {
                made.close();
            }
        }
    }

    /**
     * @param given      --storage, or null
     * @param limitBytes the snapshot's storage limit
     * @param note       prints the choice when blksnap made the file
     * @return the given storage, else a file made here, else an unnamed file in /var/tmp (/tmp) when no
     *         filesystem of {@link #KINDS} is mounted read-write
     * @throws NoStorageSpaceException if none has room
     * @throws IOException             if the storage is bad or cannot be made
     */
    static Choice choose(Path given, long limitBytes, java.util.function.Consumer<String> note) throws IOException {
        if (given != null) {
            return new Choice(DiffStorage.of(given), null);
        }
        Optional<PreallocatedStorage> made = create(limitBytes);
        if (made.isEmpty()) {
            return new Choice(DiffStorage.of(BackupCreateCommand.defaultStorage()), null);
        }
        note.accept(made.get().describe());
        return new Choice(made.get().storage(), made.get());
    }

    private final Path file;
    private final Mount mount;
    private final long bytes;

    private PreallocatedStorage(Path file, Mount mount, long bytes) {
        this.file = file;
        this.mount = mount;
        this.bytes = bytes;
    }

    /**
     * Picks the filesystem and allocates the file.
     *
     * @param limitBytes the snapshot's storage limit; the file gets this
     *                   size, rounded up to a MiB
     * @return the storage, or empty when no filesystem of {@link #KINDS} is
     *         mounted read-write (the caller then falls back to a directory)
     * @throws NoStorageSpaceException if none has room for it
     * @throws IOException             if the file cannot be made
     */
    static Optional<PreallocatedStorage> create(long limitBytes) throws IOException {
        List<Mount> mounts = new ArrayList<>();
        for (Mount m : candidates(Files.readString(Path.of("/proc/self/mountinfo")))) {
            long free = Files.getFileStore(m.point()).getUsableSpace();
            mounts.add(new Mount(m.point(), m.type(), m.device(), free));
        }
        if (mounts.isEmpty()) {
            return Optional.empty();
        }
        for (Mount m : mounts) {
            removeStale(m.point());
        }
        long size = (limitBytes + ALIGN - 1) / ALIGN * ALIGN;
        Mount best = choose(mounts);
        if (best.freeBytes() < size) {
            throw noSpace(size, best);
        }
        Path file = best.point().resolve(name(bootTag(), ProcessHandle.current().pid()));
        allocate(file, size, best);
        return Optional.of(new PreallocatedStorage(file, best, size));
    }

    /** @return the mount with the most free space */
    static Mount choose(List<Mount> mounts) {
        return mounts.stream().max(Comparator.comparingLong(Mount::freeBytes)).orElseThrow();
    }

    /**
     * The read-write mounts of {@link #KINDS}, one per device (its first
     * mount), free space not filled in.
     *
     * @param mountinfo the text of /proc/self/mountinfo
     * @return the mounts in the order listed
     */
    static List<Mount> candidates(String mountinfo) {
        List<Mount> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (String line : mountinfo.split("\n")) {
            int dash = line.indexOf(" - ");
            if (dash < 0) {
                continue;
            }
            String[] left = line.substring(0, dash).split(" ");
            String[] right = line.substring(dash + 3).split(" ");
            if (left.length < 6 || right.length < 1) {
                continue;
            }
            String device = left[2];
            Path point = Path.of(unescape(left[4]));
            boolean rw = List.of(left[5].split(",")).contains("rw");
            if (rw && KINDS.contains(right[0]) && seen.add(device)) {
                out.add(new Mount(point, right[0], device, 0));
            }
        }
        return out;
    }

    /** Mount points escape space, tab, newline and backslash as octal. */
    private static String unescape(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static NoStorageSpaceException noSpace(long size, Mount best) {
        return new NoStorageSpaceException("no filesystem has room for the " + Sizes.format(size)
                + " difference storage (the most free is " + Sizes.format(best.freeBytes()) + " on " + best.point()
                + "): free some space, give a smaller --limit or a --storage elsewhere");
    }

    private static void allocate(Path file, long size, Mount mount) throws IOException {
        SysResult fd = Linux.open(file.toString(), Linux.O_WRONLY | Linux.O_CREAT | Linux.O_EXCL | Linux.O_CLOEXEC,
                0600);
        if (!fd.ok()) {
            throw new IOException(file + ": " + Linux.strerror(fd.errno()));
        }
        SysResult r = Linux.fallocate(fd.intValue(), 0, 0, size);
        // Closed before the snapshot: the kernel refuses a file someone else has open for writing.
        Linux.close(fd.intValue());
        if (!r.ok()) {
            Files.deleteIfExists(file);
            if (r.errno() == Errno.ENOSPC) {
                throw noSpace(size, mount);
            }
            throw new IOException(file + ": fallocate: " + Linux.strerror(r.errno()));
        }
    }

    /*
     * A file of a process that is gone. One still pinned by a snapshot that
     * outlived its blksnap cannot be removed (the kernel refuses, EPERM):
     * it stays for the run after that snapshot is cleaned up.
     */
    private static void removeStale(Path dir) {
        String boot = bootTag();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, PREFIX + "*")) {
            for (Path f : files) {
                if (isStale(f.getFileName().toString(), boot, pid -> ProcessHandle.of(pid).isPresent())) {
                    try {
                        Files.deleteIfExists(f);
                    } catch (IOException pinned) {
                        // See above.
                    }
                }
            }
        } catch (IOException | NumberFormatException unreadable) {
            // Nothing to clean there.
        }
    }

    /**
     * @param boot the boot's tag ({@link #bootTag})
     * @param pid  the process
     * @return the file's name
     */
    static String name(String boot, long pid) {
        return PREFIX + boot + "-" + pid;
    }

    /**
     * @param fileName a name in the filesystem's top directory
     * @param boot     this boot's tag
     * @param alive    whether a process number is in use now
     * @return whether it is the storage file of a blksnap that is gone: one of another boot, or of
     *         this boot (or of no recorded boot) whose process has ended
     */
    static boolean isStale(String fileName, String boot, java.util.function.LongPredicate alive) {
        var m = NAME.matcher(fileName);
        if (!m.matches()) {
            return false;
        }
        if (m.group(1) != null && !m.group(1).equals(boot)) {
            return true;
        }
        try {
            return !alive.test(Long.parseLong(m.group(2)));
        } catch (NumberFormatException huge) {
            return false;
        }
    }

    /** @return the first 8 hex digits of this boot's id; "00000000" if the kernel does not say */
    static String bootTag() {
        try {
            String id = Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).trim().replace("-", "");
            if (id.matches("[0-9a-f]{8,}")) {
                return id.substring(0, 8);
            }
        } catch (IOException unreadable) {
            // No procfs: PIDs alone decide.
        }
        return "00000000";
    }

    /** @return the storage to hand to the kernel */
    DiffStorage storage() {
        return DiffStorage.file(file);
    }

    /** @return one line for the user: what was chosen, and why */
    String describe() {
        return "difference storage: " + Sizes.format(bytes) + " preallocated in " + file + " (" + mount.type()
                + ", the most free space: " + Sizes.format(mount.freeBytes()) + ")";
    }

    Path file() {
        return file;
    }

    /** Removes the file; call once the snapshot is destroyed (the kernel unpins it then). */
    @Override
    public void close() throws IOException {
        Files.deleteIfExists(file);
    }
}
