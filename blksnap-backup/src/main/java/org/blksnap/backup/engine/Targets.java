package org.blksnap.backup.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.blksnap.backup.BackupException;

/** What a restore needs to know about a block device: its size, whether it is in use. */
public final class Targets {
    private Targets() {
    }

    /**
     * @param path a path
     * @return true if it is a block device
     */
    public static boolean isBlockDevice(Path path) {
        try {
            int mode = (Integer) Files.getAttribute(path, "unix:mode");
            return (mode & 0170000) == 0060000;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    /**
     * @param device a block device
     * @return its "major:minor"
     * @throws IOException if it cannot be asked
     */
    public static String deviceNumber(Path device) throws IOException {
        long rdev = (Long) Files.getAttribute(device, "unix:rdev");
        long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
        long minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
        return major + ":" + minor;
    }

    /**
     * @param path a block device or a regular file
     * @return its size in bytes
     * @throws IOException if it cannot be asked
     */
    public static long sizeBytes(Path path) throws IOException {
        if (!isBlockDevice(path)) {
            return Files.size(path);
        }
        Path sys = Path.of("/sys/dev/block", deviceNumber(path), "size");
        return Long.parseLong(Files.readString(sys).strip()) * 512;
    }

    /**
     * Refuses a block device that is mounted or held by another device
     * (device mapper, md, a partition in use).
     *
     * @param device a block device
     * @throws BackupException if it is in use
     * @throws IOException if it cannot be asked
     */
    public static void requireUnused(Path device) throws IOException {
        String number = deviceNumber(device);
        List<String> mounts = Files.readAllLines(Path.of("/proc/self/mountinfo"));
        for (String line : mounts) {
            String[] f = line.split(" ");
            if (f.length > 4 && f[2].equals(number)) {
                throw new BackupException(device + " is mounted on " + f[4] + ": unmount it before restoring to it");
            }
        }
        Path holders = Path.of("/sys/dev/block", number, "holders");
        if (Files.isDirectory(holders)) {
            try (var s = Files.list(holders)) {
                var first = s.findFirst();
                if (first.isPresent()) {
                    throw new BackupException(device + " is in use by " + first.get().getFileName()
                            + ": free it before restoring to it");
                }
            }
        }
        Path sysdev = Path.of("/sys/dev/block", number).toRealPath();
        try (var s = Files.list(sysdev)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (Files.exists(p.resolve("partition"))) {
                    String part = Files.readString(p.resolve("dev")).strip();
                    for (String line : mounts) {
                        String[] f = line.split(" ");
                        if (f.length > 4 && f[2].equals(part)) {
                            throw new BackupException(device + " has partition " + p.getFileName()
                                    + " mounted on " + f[4] + ": unmount it before restoring");
                        }
                    }
                }
            }
        }
    }
}
