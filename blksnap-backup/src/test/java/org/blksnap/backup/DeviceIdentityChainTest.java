package org.blksnap.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import org.blksnap.backup.engine.BackupResult;
import org.blksnap.backup.engine.DeviceResult;
import org.blksnap.backup.engine.Pruner;
import org.blksnap.backup.repo.BackupSummary;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backups of a device chain on its stable identity, not on the path it had:
 * {@code /dev/sdb} may be another disk after a reboot, and the same disk may
 * come back as {@code /dev/sdc}.
 */
class DeviceIdentityChainTest {
    private static final int SIZE = 32 * Images.CHUNK;
    private static final String DISK = "wwn:0x5000c500a1b2c3d4";

    @TempDir
    Path dir;

    @Test
    void theSameDiskUnderANewPathContinuesItsChain() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device disk = new Images.Device("/dev/sdb", dir.resolve("disk.img"), Images.content(SIZE, 21));
        disk.identity = DISK;
        BackupResult full = fx.backup(disk.take());
        assertEquals("full", full.devices().getFirst().mode());

        disk.name = "/dev/sdc";
        disk.write(5L * Images.CHUNK + 7, new byte[] {1, 2, 3});
        BackupResult next = fx.backup(disk.take());
        DeviceResult d = next.devices().getFirst();
        assertEquals("incremental", d.mode(), d.reason());
        assertEquals(Images.CHUNK, d.bytesRead(), "only the changed chunk is read");
        try (Repository repo = fx.read()) {
            BackupSummary.DeviceSummary s = repo.summary(next.backupId()).devices().getFirst();
            assertEquals("/dev/sdc", s.name(), "the path stays the label");
            assertEquals(DISK, s.identity());
            assertEquals(full.backupId(), s.parent());
        }
        assertArrayEquals(disk.bytes(), fx.restore(next.backupId(), "/dev/sdc"));
    }

    @Test
    void anotherDiskUnderTheSamePathStartsItsOwnChain() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device disk = new Images.Device("/dev/sdb", dir.resolve("disk.img"), Images.content(SIZE, 22));
        disk.identity = DISK;
        fx.backup(disk.take());

        // Same path, same tracker state, but udev names another disk: its
        // blocks are not the ones the earlier backup saw.
        disk.identity = "wwn:0x5000c500deadbeef";
        DeviceResult d = fx.backup(disk.take()).devices().getFirst();
        assertEquals("full", d.mode(), d.reason());
        assertTrue(d.reason().contains("no earlier backup"), d.reason());
        assertEquals(SIZE, d.bytesRead());
    }

    @Test
    void backupsWithoutAnIdentityChainOnThePath() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device disk = new Images.Device("/dev/vdb", dir.resolve("disk.img"), Images.content(SIZE, 23));
        BackupResult old = fx.backup(disk.take());
        disk.identity = DISK;
        disk.write(0, new byte[] {9});
        BackupResult next = fx.backup(disk.take());
        assertEquals("incremental", next.devices().getFirst().mode(), next.devices().getFirst().reason());
        try (Repository repo = fx.read()) {
            assertNull(repo.summary(old.backupId()).devices().getFirst().identity(),
                    "the device had no stable identity then");
            assertEquals(old.backupId(), repo.summary(next.backupId()).devices().getFirst().parent());
        }
    }

    @Test
    void retentionCountsTheBackupsOfOneDiskUnderAnyPath() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device disk = new Images.Device("/dev/sdb", dir.resolve("disk.img"), Images.content(SIZE, 24));
        disk.identity = DISK;
        BackupResult first = fx.backup(disk.take());
        disk.name = "/dev/sdc";
        BackupResult second = fx.backup(disk.take());
        Pruner.Result r;
        try (Repository repo = fx.open(fx.repoStore(), ChunkStore.LockMode.EXCLUSIVE)) {
            r = new Pruner(repo).prune(1, 0, false);
        }
        assertEquals(List.of(first.backupId()), r.removed());
        assertEquals(List.of(second.backupId()), r.kept());
    }
}
