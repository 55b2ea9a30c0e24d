package org.blksnap.itest.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Shell;
import org.blksnap.itest.support.Snapshots;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * 'blksnap backup create' with no --storage on a machine whose only
 * writable ext4 is the one being backed up (issue 16): the storage file goes
 * on that very filesystem, is pinned while the snapshot lives and removed
 * afterwards, and the restore has every file as at the take.
 */
class SingleDiskBackupIT {
    private static final long MIB = 1L << 20;
    private static final long DEVICE = 160 * MIB;
    private static final String STORE = ".blksnap-storage-";

    private Path repo;

    @BeforeEach
    void repo() throws IOException {
        repo = Files.createTempDirectory("backup-repo");
    }

    @AfterEach
    void clean() throws IOException {
        Shell.run("rm", "-rf", repo.toString());
        assertEquals(List.of(), Snapshots.list(), "a backup left a snapshot behind");
    }

    private static List<Path> storageFiles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(STORE)).toList();
        }
    }

    @Test
    void backupWithoutStorageOfTheFilesystemThatHoldsItRestoresEveryFile() throws Exception {
        try (LoopDevice src = LoopDevice.create(DEVICE); LoopDevice target = LoopDevice.create(DEVICE);
                LiveFs fs = LiveFs.create(src.device())) {
            for (int i = 0; i < 60; i++) {
                LiveFs.write(fs.mount.resolve("file" + i), (i % 4 + 1) * 256 * 1024, i);
            }
            Shell.sh("sync");
            Map<String, String> atTake = LiveFs.md5Tree(fs.mount);

            fs.startWriting();
            Blksnap.Result r = Blksnap.run("backup", "create", "--device", src.device().toString(), "--repo",
                    repo.toString(), "--limit", "48M", "--encryption", "none").ok();
            assertTrue(fs.stopWriting() > 0, "the filesystem was written during the backup");
            assertTrue(r.err().contains("difference storage: 48M preallocated in " + fs.mount.resolve(STORE)),
                    "the choice is printed: " + r.err());
            assertEquals(List.of(), storageFiles(fs.mount), "the storage file is removed after the backup");

            Blksnap.run("backup", "restore", "latest", "--repo", repo.toString(), "--device",
                    src.device().toString(), "--to", target.path(), "--verify").ok();
            Shell.Result fsck = Shell.run("e2fsck", "-fn", target.path());
            assertEquals(0, fsck.status(), "fsck of the restored filesystem: " + fsck.output());
            Path mnt = Files.createTempDirectory("backup-restored");
            Shell.sh("mount", "-o", "ro", target.path(), mnt.toString());
            try {
                Map<String, String> restored = LiveFs.md5Tree(mnt);
                List<Path> stores = storageFiles(mnt);
                assertEquals(1, stores.size(), "the restore holds the storage file as at the take");
                String zeros = Shell.sh("sh", "-c", "head -c " + (48 * MIB) + " /dev/zero | md5sum | cut -d' ' -f1");
                assertEquals(zeros, restored.remove(stores.get(0).getFileName().toString()),
                        "the storage file as at the take: allocated, zeros");
                atTake.keySet().removeIf(k -> k.startsWith(STORE));
                assertEquals(atTake, restored, "every file as at the take");
            } finally {
                Shell.sh("umount", mnt.toString());
                Files.delete(mnt);
            }
        }
    }

    /** What a crash of the caller leaves: its snapshot, and the storage file that snapshot pins. */
    @Test
    void aStorageFileLeftByAKilledBlksnapIsRemovedByTheNextBackup() throws Exception {
        try (LoopDevice src = LoopDevice.create(64 * MIB); LiveFs fs = LiveFs.create(src.device())) {
            Process p = StaleSnapshotIT.startUntilTaken("snapshot", "--device", src.device().toString(), "--limit",
                    "16M", "--", "sleep", "600");
            List<Path> left = storageFiles(fs.mount);
            assertEquals(1, left.size(), "the snapshot's storage is a file on the snapshotted filesystem");
            StaleSnapshotIT.kill(p);
            assertTrue(Files.exists(left.get(0)), "the killed blksnap could not remove it");
            assertFalse(Shell.run("rm", "-f", left.get(0).toString()).ok(), "still pinned by the snapshot left");

            Blksnap.Result r = Blksnap.run("backup", "create", "--device", src.device().toString(), "--repo",
                    repo.toString(), "--limit", "16M", "--encryption", "none").ok();
            assertTrue(r.err().contains("destroyed snapshot"), "the abandoned snapshot is destroyed: " + r.err());
            assertEquals(List.of(), storageFiles(fs.mount), "the stale file and the backup's own are both gone");
        }
    }

    @Test
    void noFilesystemWithRoomIsOneLineAndExitStatusNine() throws Exception {
        try (LoopDevice src = LoopDevice.create(64 * MIB); LiveFs fs = LiveFs.create(src.device())) {
            Blksnap.Result r = Blksnap.run("backup", "create", "--device", src.device().toString(), "--repo",
                    repo.toString(), "--limit", "4G", "--encryption", "none");
            assertEquals(10, r.status(), r.err());
            assertEquals(1, r.errLines(), "one line: " + r.err());
            assertTrue(r.err().contains("no filesystem has room for the 4G difference storage"), r.err());
            assertEquals(List.of(), storageFiles(fs.mount), "nothing left behind");
            try (Stream<Path> s = Files.list(repo)) {
                assertEquals(0, s.count(), "no repository made");
            }
        }
    }
}
