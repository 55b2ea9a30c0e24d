package org.blksnap.cli.commands;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

import org.blksnap.cli.UsageException;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;

/**
 * What {@code backup mount} and {@code backup umount} share: the record of
 * each mounted backup in {@code /run/blksnap/mounts/}, the server's socket
 * next to it, its log, and the system's table of mounts.
 */
final class BackupMounts {
    /** Where the records live; /run is emptied at boot, as the mounts are. */
    static final Path DIR = Path.of("/run/blksnap/mounts");

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private BackupMounts() {
    }

    /**
     * One mounted backup.
     *
     * @param mountpoint where it is mounted (a real path)
     * @param nbdDevice  the kernel's device, e.g. /dev/nbd0
     * @param nbdAttacher what the kernel showed in /sys/block/nbdN/pid for this attachment: the device is
     *                   disconnected only while it still shows that, never once someone else attached it
     * @param pid        the process serving it
     * @param serverStarted when that process started, as {@link #started} gives it: with the pid, what tells the
     *                   server from a process that got its pid after it died
     * @param backup     the backup's id
     * @param device     the backed-up device's name
     * @param repo       the repository
     * @param filesystem the file system type mounted
     */
    record Record(String mountpoint, String nbdDevice, long nbdAttacher, long pid, String serverStarted, String backup, String device,
            String repo, String filesystem) {
    }

    /**
     * @param p a process
     * @return when it started, e.g. 2026-12-02T05:01:02.340Z, or null if the system does not say
     */
    static String started(ProcessHandle p) {
        return p.info().startInstant().map(Instant::toString).orElse(null);
    }

    /**
     * The process serving a mount, if it still runs. Its pid alone is not
     * enough: after the server was killed the pid may be another process's,
     * which must never be signalled.
     *
     * @param r a mount's record
     * @return the serving process, if alive
     */
    static Optional<ProcessHandle> server(Record r) {
        return ProcessHandle.of(r.pid()).filter(ProcessHandle::isAlive)
                .filter(p -> r.serverStarted() != null && r.serverStarted().equals(started(p)));
    }

    /**
     * One line of /proc/self/mountinfo.
     *
     * @param mountpoint where
     * @param source     what is mounted (e.g. /dev/nbd0)
     * @param type       the file system type
     */
    record Mount(Path mountpoint, String source, String type) {
    }

    /**
     * @param given a mount point as the user gave it
     * @return its real path
     * @throws UsageException if it is not an existing directory
     * @throws IOException if it cannot be resolved
     */
    static Path directory(Path given) throws IOException {
        if (!Files.isDirectory(given)) {
            throw new UsageException(given + (Files.exists(given) ? " is not a directory" : ": no such directory"));
        }
        return given.toRealPath();
    }

    /** @return the key of a mount point's files: a hash, since the path may hold any character */
    static String key(Path mountpoint) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(mountpoint.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(h, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the Java runtime has no SHA-256", e);
        }
    }

    static Path recordFile(Path mountpoint) {
        return DIR.resolve(key(mountpoint) + ".json");
    }

    static Path socket(Path mountpoint) {
        return DIR.resolve(key(mountpoint) + ".sock");
    }

    static Path log(Path mountpoint) {
        return DIR.resolve(key(mountpoint) + ".log");
    }

    /** Makes the directory, owner-only. */
    static void createDir() throws IOException {
        Files.createDirectories(DIR, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }

    /** Writes a record under a temporary name, then renames it: a reader sees all of it or none. */
    static void write(Record r) throws IOException {
        Path file = recordFile(Path.of(r.mountpoint()));
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, JSON.writeValueAsString(r));
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * @param mountpoint a real path
     * @return its record, if a backup was mounted there and not unmounted since
     * @throws IOException if the record cannot be read or is damaged
     */
    static Optional<Record> read(Path mountpoint) throws IOException {
        try {
            return Optional.of(JSON.readValue(Files.readString(recordFile(mountpoint)), Record.class));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (JsonProcessingException e) {
            throw new IOException(recordFile(mountpoint) + " is damaged (" + e.getOriginalMessage() + "): remove it");
        }
    }

    /** Removes a mount point's record and socket (not its log, which says what happened). */
    static void remove(Path mountpoint) throws IOException {
        Files.deleteIfExists(recordFile(mountpoint));
        Files.deleteIfExists(socket(mountpoint));
    }

    /**
     * @param mountpoint a real path
     * @return what is mounted there (the last mount, which hides the others)
     * @throws IOException if the mount table cannot be read
     */
    static Optional<Mount> mounted(Path mountpoint) throws IOException {
        Optional<Mount> found = Optional.empty();
        for (Mount m : table()) {
            if (m.mountpoint().equals(mountpoint)) {
                found = Optional.of(m);
            }
        }
        return found;
    }

    /** @return /proc/self/mountinfo, in order */
    static List<Mount> table() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().map(BackupMounts::parse)
                .flatMap(Optional::stream).toList();
    }

    /** "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue". */
    static Optional<Mount> parse(String line) {
        String[] f = line.split(" ");
        int dash = List.of(f).indexOf("-");
        if (f.length < 5 || dash < 0 || dash + 2 >= f.length) {
            return Optional.empty();
        }
        return Optional.of(new Mount(Path.of(unescape(f[4])), unescape(f[dash + 2]), f[dash + 1]));
    }

    /** The kernel writes space, tab, newline and backslash in octal (\040). */
    static String unescape(String s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                sb.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /**
     * Runs mount(8) or umount(8).
     *
     * @param command the words
     * @return empty on success, else what it printed (one line)
     * @throws IOException if it cannot be started
     */
    static Optional<String> run(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            int rc = p.waitFor();
            return rc == 0 ? Optional.empty() : Optional.of(out.isEmpty() ? command.getFirst() + " exited " + rc
                    : out.replace('\n', ' '));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while " + command.getFirst() + " ran");
        }
    }
}
