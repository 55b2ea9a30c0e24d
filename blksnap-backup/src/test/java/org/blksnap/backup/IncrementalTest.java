package org.blksnap.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;

import org.blksnap.backup.engine.BackupResult;
import org.blksnap.backup.engine.DeviceResult;
import org.blksnap.backup.repo.BackupSummary;
import org.blksnap.backup.repo.ChunkId;
import org.blksnap.backup.repo.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IncrementalTest {
    private static final int SIZE = 64 * Images.CHUNK;

    @TempDir
    Path dir;

    @Test
    void readsOnlyTheChunksOfChangedBlocksAndRestoresEveryState() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(SIZE, 10));
        byte[] state0 = vda.bytes();
        BackupResult full = fx.backup(vda.take());
        assertEquals("full", full.devices().getFirst().mode());

        // Two small writes: one inside chunk 3, one straddling chunks 40 and 41.
        vda.write(3L * Images.CHUNK + 100, Images.random(10, 1));
        vda.write(41L * Images.CHUNK - 5, Images.random(10, 2));
        byte[] state1 = vda.bytes();
        BackupResult inc = fx.backup(vda.take());
        DeviceResult d = inc.devices().getFirst();
        assertEquals("incremental", d.mode(), d.reason());
        assertEquals(3, d.chunksRead());
        assertEquals(3L * Images.CHUNK, d.bytesRead(), "only the three chunks the changed CBT blocks touch, whole");
        assertEquals(61, d.chunksReused() - 0, "the other chunks come from the full backup");

        // Nothing changed: nothing read.
        BackupResult none = fx.backup(vda.take());
        assertEquals(0, none.devices().getFirst().bytesRead());

        assertArrayEquals(state0, fx.restore(full.backupId(), "/dev/vda"));
        assertArrayEquals(state1, fx.restore(inc.backupId(), "/dev/vda"));
        assertArrayEquals(state1, fx.restore(none.backupId(), "/dev/vda"));
        try (Repository repo = fx.read()) {
            BackupSummary.DeviceSummary m = repo.manifest(inc.backupId()).device("/dev/vda").info();
            assertEquals(full.backupId(), m.parent());
            assertEquals(2, m.changesNumber());
            assertEquals(vda.generation.toString(), m.generationId());
        }
        assertTrue(fx.verify(true).clean());
    }

    @Test
    void aChangeInAPreviouslyAllZeroChunkIsReadWhole() throws IOException {
        Fixture fx = new Fixture(dir);
        byte[] content = new byte[SIZE];
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), content);
        fx.backup(vda.take());
        vda.write(10L * Images.CHUNK + 3 * Images.CBT_BLOCK, Images.random(Images.CBT_BLOCK + 1, 9));
        BackupResult r = fx.backup(vda.take());
        assertEquals(2L * Images.CHUNK, r.devices().getFirst().bytesRead());
        assertArrayEquals(vda.bytes(), fx.restore(r.backupId(), null));
    }

    @Test
    void aNewGenerationOrAForcedFullReadsEverything() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(SIZE, 11));
        fx.backup(vda.take());
        vda.newGeneration();
        vda.write(0, Images.random(10, 3));
        DeviceResult d = fx.backup(vda.take()).devices().getFirst();
        assertEquals("full", d.mode());
        assertTrue(d.reason().contains("generation"), d.reason());
        assertEquals(SIZE, d.bytesRead());

        DeviceResult forced = fx.backup(fx.repoStore(), true, vda.take()).devices().getFirst();
        assertEquals("full", forced.mode());
        assertEquals(SIZE, forced.bytesRead());
        assertEquals(0, forced.chunksNew(), "a forced full stores nothing new");
    }

    @Test
    void aDeviceWithoutAnEarlierBackupIsFullAndOthersStayIncremental() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device a = new Images.Device("/dev/a", dir.resolve("a.img"), Images.content(SIZE, 12));
        Images.Device b = new Images.Device("/dev/b", dir.resolve("b.img"), Images.content(SIZE, 13));
        fx.backup(a.take());
        a.write(5, Images.random(1, 4));
        BackupResult r = fx.backup(a.take(), b.take());
        assertEquals("incremental", r.devices().get(0).mode());
        assertEquals(Images.CHUNK, r.devices().get(0).bytesRead());
        assertEquals("full", r.devices().get(1).mode());
        assertArrayEquals(b.bytes(), fx.restore(r.backupId(), "/dev/b"));
        assertArrayEquals(a.bytes(), fx.restore(r.backupId(), "/dev/a"));
    }

    @Test
    void afterTheWrapTakeChangesCountFromZero() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(SIZE, 14));
        // The kernel's wrap take: reports 255 in a new generation, then
        // stamps later writes from 1 in a cleared map.
        vda.newGeneration();
        vda.changesNumber = 254;
        BackupResult atWrap = fx.backup(vda.take());
        assertEquals("full", atWrap.devices().getFirst().mode());
        try (Repository repo = fx.read()) {
            assertEquals(0, repo.manifest(atWrap.backupId()).devices().getFirst().info().changesNumber());
        }
        vda.changesNumber = 0;
        vda.map = new byte[vda.map.length];
        vda.write(7L * Images.CHUNK, Images.random(100, 5));
        DeviceResult d = fx.backup(vda.take()).devices().getFirst();
        assertEquals("incremental", d.mode(), d.reason());
        assertEquals(Images.CHUNK, d.bytesRead());
    }

    @Test
    void aChunkLostFromTheRepositoryIsReadAgainInsteadOfReferenced() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(SIZE, 15));
        BackupResult full = fx.backup(vda.take());
        ChunkId lost = fx.chunkOf(full.backupId(), 9);
        fx.dropFromIndex(lost);
        DeviceResult d = fx.backup(vda.take()).devices().getFirst();
        assertEquals("incremental", d.mode());
        assertEquals(1, d.chunksRead());
        assertEquals(Images.CHUNK, d.bytesRead(), "the lost chunk is read whole");
        assertEquals(1, d.chunksNew());
    }
}
