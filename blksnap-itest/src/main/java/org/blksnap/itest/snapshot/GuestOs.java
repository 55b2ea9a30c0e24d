package org.blksnap.itest.snapshot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.blksnap.itest.support.Shell;

/** Commands and kernel files of the guest that the snapshot tests use. */
final class GuestOs {
    static final Path VDB = Path.of("/dev/vdb");
    static final Path VDC = Path.of("/dev/vdc");
    static final Path PARAMETERS = Path.of("/sys/module/blksnap/parameters");
    static final Path DEBUGFS = Path.of("/sys/kernel/debug/blksnap");

    private GuestOs() {
    }

    /** Makes a filesystem of the given type on a device. */
    static void mkfs(String fs, Path device) throws IOException {
        switch (fs) {
            case "ext4" -> Shell.sh("mkfs.ext4", "-q", "-F", device.toString());
            case "xfs" -> Shell.sh("mkfs.xfs", "-q", "-f", device.toString());
            default -> throw new IllegalArgumentException(fs);
        }
    }

    /**
     * Mounts a snapshot image. XFS refuses a second mount of the same UUID,
     * which the image shares with its original.
     */
    static void mountImage(String fs, Path image, Path dir) throws IOException {
        Files.createDirectories(dir);
        if (fs.equals("xfs")) {
            Shell.sh("mount", "-t", "xfs", "-o", "nouuid", image.toString(), dir.toString());
        } else {
            Shell.sh("mount", "-t", fs, image.toString(), dir.toString());
        }
    }

    static String readParameter(String name) throws IOException {
        return Files.readString(PARAMETERS.resolve(name)).strip();
    }

    static void writeParameter(String name, String value) throws IOException {
        Files.writeString(PARAMETERS.resolve(name), value);
    }

    /**
     * The sum of the first figures called {@code names} in one reading of
     * debugfs {@code snapshots} (module/README.md, "Diagnostics"): for a
     * per-device figure, that of the first device of the only snapshot.
     */
    static long snapshotsSum(String... names) throws IOException {
        String[] f = Files.readString(DEBUGFS.resolve("snapshots")).split("\\s+");
        long sum = 0;
        for (String name : names) {
            int i = 0;
            while (i + 1 < f.length && !f[i].equals(name)) {
                i++;
            }
            if (i + 1 >= f.length) {
                throw new IOException("debugfs snapshots has no " + name);
            }
            sum += Long.parseLong(f[i + 1]);
        }
        return sum;
    }

    /** @return {@link #snapshotsSum} of one figure */
    static long snapshotsField(String name) throws IOException {
        return snapshotsSum(name);
    }
}
