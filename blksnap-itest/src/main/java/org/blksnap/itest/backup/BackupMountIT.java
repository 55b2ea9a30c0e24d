package org.blksnap.itest.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.blksnap.cli.ExitCodes;
import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Shell;
import org.blksnap.itest.support.Snapshots;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * File-level restore: a backup of a mounted ext4 and of a mounted xfs,
 * mounted with {@code blksnap backup mount} (served from the encrypted
 * repository, attached by the kernel's nbd client) while the original stays
 * mounted: every file's md5 is the one at the backup; {@code backup umount}
 * refuses while a file is open there, then leaves no mount, no attached nbd
 * device and no serving process.
 */
class BackupMountIT {
    private static final long DEVICE = 320L << 20;
    private static final String PASSWORD = "backup-mount-it password";
    private static final Pattern NBD = Pattern.compile("\\((/dev/nbd[0-9]+), read-only\\)");

    private Path repo;
    private Path mnt;

    @BeforeEach
    void dirs() throws IOException {
        repo = Files.createTempDirectory("mount-repo");
        mnt = Files.createTempDirectory("mount-backup");
    }

    @AfterEach
    void clean() throws IOException {
        // A test that failed half-way must not leave its server and nbd device to the next one.
        Blksnap.run("backup", "umount", mnt.toString());
        Shell.run("umount", mnt.toString());
        Shell.run("rm", "-rf", repo.toString(), mnt.toString());
        assertEquals(List.of(), Snapshots.list(), "a backup left a snapshot behind");
    }

    private static Blksnap.Result blksnap(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--password-command", "printf '" + PASSWORD + "'"));
        return Blksnap.run(all.toArray(String[]::new));
    }

    @ParameterizedTest
    @ValueSource(strings = {"ext4", "xfs"})
    void everyFileOfTheMountedBackupIsAsItWasAtTheBackup(String fs) throws Exception {
        try (LoopDevice src = LoopDevice.create(DEVICE)) {
            Shell.sh(fs.equals("xfs") ? "mkfs.xfs" : "mkfs.ext4", fs.equals("xfs") ? "-qf" : "-qF", src.path());
            Path live = Files.createTempDirectory("mount-live");
            Shell.sh("mount", src.path(), live.toString());
            try {
                Files.createDirectories(live.resolve("dir/deeper"));
                for (int i = 0; i < 12; i++) {
                    LiveFs.write(live.resolve(i % 3 == 0 ? "dir/file" + i : i % 3 == 1 ? "dir/deeper/file" + i
                            : "file" + i), (i + 1) * 300_000 + i, i);
                }
                Files.write(live.resolve("zeros"), new byte[3 << 20]);
                Files.writeString(live.resolve("small"), "one line\n");
                Shell.sh("sync");
                Map<String, String> atBackup = LiveFs.md5Tree(live);

                blksnap("backup", "create", "--device", src.path(), "--repo", repo.toString(), "--storage", "/tmp",
                        "--limit", "64M", "--kdf-memory", "8M", "--kdf-iterations", "1").ok();
                // Changed after the backup: the mounted backup must not show it.
                LiveFs.write(live.resolve("file2"), 4096, 999);
                Shell.sh("sync");

                Blksnap.Result mounted = blksnap("backup", "mount", "latest", "--repo", repo.toString(),
                        mnt.toString()).ok();
                Matcher m = NBD.matcher(mounted.out());
                assertTrue(m.find(), mounted.out());
                Path nbd = Path.of(m.group(1));
                assertEquals(List.of(attacher(nbd).pid()), servers(), "the process attached to " + nbd
                        + " is the one serving process");
                String line = mountLine(mnt);
                assertTrue(line.startsWith(nbd + " " + mnt + " " + fs + " ro,"), line);

                assertEquals(atBackup, LiveFs.md5Tree(mnt));

                try (InputStream open = Files.newInputStream(mnt.resolve("small"))) {
                    assertEquals('o', open.read());
                    Blksnap.Result busy = Blksnap.run("backup", "umount", mnt.toString());
                    assertEquals(ExitCodes.BUSY, busy.status(), busy.err());
                    assertEquals(1, busy.errLines(), busy.err());
                    assertTrue(busy.err().contains("is in use"), busy.err());
                    assertEquals(line, mountLine(mnt), "still mounted");
                }

                Blksnap.Result gone = Blksnap.run("backup", "umount", mnt.toString()).ok();
                assertTrue(gone.out().contains(nbd + " detached"), gone.out());
                assertEquals("", mountLine(mnt), "nothing mounted at " + mnt);
                assertEquals(List.of(), attachedNbd(), "no nbd device attached");
                assertEquals(List.of(), servers(), "no process serves a backup");
            } finally {
                Shell.run("umount", live.toString());
                Files.deleteIfExists(live);
            }
        }
    }

    @org.junit.jupiter.api.Test
    void afterTheServerIsKilledUmountStillCleansUp() throws Exception {
        try (LoopDevice src = LoopDevice.create(64L << 20)) {
            Shell.sh("mkfs.ext4", "-qF", src.path());
            Path live = Files.createTempDirectory("mount-live");
            Shell.sh("mount", src.path(), live.toString());
            try {
                Files.writeString(live.resolve("small"), "one line\n");
                Shell.sh("sync");
                blksnap("backup", "create", "--device", src.path(), "--repo", repo.toString(), "--storage", "/tmp",
                        "--limit", "64M", "--kdf-memory", "8M", "--kdf-iterations", "1").ok();
            } finally {
                Shell.run("umount", live.toString());
                Files.deleteIfExists(live);
            }
            Blksnap.Result mounted = blksnap("backup", "mount", "latest", "--repo", repo.toString(),
                    mnt.toString()).ok();
            Matcher m = NBD.matcher(mounted.out());
            assertTrue(m.find(), mounted.out());
            assertEquals("one line\n", Files.readString(mnt.resolve("small")));
            ProcessHandle server = attacher(Path.of(m.group(1)));
            assertEquals(List.of(server.pid()), servers(), "one serving process, attached to " + m.group(1));
            Shell.sh("kill", "-9", Long.toString(server.pid()));
            server.onExit().get(60, java.util.concurrent.TimeUnit.SECONDS);

            Blksnap.Result gone = Blksnap.run("backup", "umount", mnt.toString()).ok();
            assertTrue(gone.out().contains("detached"), gone.out());
            assertEquals("", mountLine(mnt), "nothing mounted at " + mnt);
            assertEquals(List.of(), attachedNbd(), "no nbd device attached");
            assertEquals(List.of(), servers(), "no process serves a backup");
            assertFalse(Blksnap.run("backup", "umount", mnt.toString()).status() == 0, "nothing left to unmount");
        }
    }

    /** The line of /proc/mounts for a mount point, or "". */
    private static String mountLine(Path dir) throws IOException {
        String found = "";
        for (String l : Files.readAllLines(Path.of("/proc/mounts"))) {
            if (l.split(" ")[1].equals(dir.toString())) {
                found = l;
            }
        }
        return found;
    }

    /** nbd devices a process has attached. */
    private static List<String> attachedNbd() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/sys/block"))) {
            return s.filter(p -> p.getFileName().toString().startsWith("nbd"))
                    .filter(p -> Files.exists(p.resolve("pid"))).map(p -> p.getFileName().toString()).toList();
        }
    }

    /**
     * The process attached to an nbd device: the kernel shows the id of the
     * thread that sits in NBD_DO_IT, /proc names its process.
     */
    private static ProcessHandle attacher(Path nbd) throws IOException {
        String tid = Files.readString(Path.of("/sys/block", nbd.getFileName().toString(), "pid")).strip();
        for (String l : Files.readAllLines(Path.of("/proc", tid, "status"))) {
            if (l.startsWith("Tgid:")) {
                long pid = Long.parseLong(l.substring("Tgid:".length()).strip());
                return ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("process " + pid + " is gone"));
            }
        }
        throw new AssertionError("/proc/" + tid + "/status has no Tgid");
    }

    /**
     * Processes running 'backup mount --foreground', from their whole
     * argument list: ProcessHandle.Info.commandLine() is cut at 4096 bytes,
     * and the serving JVM's class path alone is longer than that.
     */
    private static List<Long> servers() throws IOException {
        List<Long> found = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/proc"))) {
            for (Path p : s.filter(p -> p.getFileName().toString().matches("[0-9]+")).toList()) {
                List<String> args;
                try {
                    args = List.of(new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8)
                            .split("\0"));
                } catch (IOException gone) {
                    continue;
                }
                if (args.contains("--foreground")
                        && Collections.indexOfSubList(args, List.of("backup", "mount")) >= 0) {
                    found.add(Long.parseLong(p.getFileName().toString()));
                }
            }
        }
        return found;
    }
}
