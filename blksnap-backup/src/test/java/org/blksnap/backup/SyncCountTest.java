package org.blksnap.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.ProgressListener;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How many fsyncs a backup costs on a local store: packs are synced in one
 * batch at commit, one sync per pack file, then the three small objects
 * that make the backup visible (index, manifest, summary), each once. A
 * sync per chunk would make a backup to a disk-backed repository as slow as
 * its disk's flush latency times the number of chunks.
 */
class SyncCountTest {
    @TempDir
    Path dir;

    /** Counts the store's fsyncs instead of making them. */
    static final class SyncCounting extends Fixture.Unsynced {
        final AtomicInteger files = new AtomicInteger();
        final AtomicInteger dirs = new AtomicInteger();

        SyncCounting(Path root) {
            super(root);
        }

        @Override
        protected void syncFile(FileChannel ch) {
            files.incrementAndGet();
        }

        @Override
        protected void syncDir(Path d) {
            dirs.incrementAndGet();
        }
    }

    /**
     * @param files fsyncs of files during the backup
     * @param dirs  fsyncs of directories during the backup
     * @param packs pack files the backup wrote
     */
    record Syncs(int files, int dirs, int packs) {
    }

    /** A full backup of {@code chunks} distinct chunks into a fresh repository, its syncs counted. */
    private Syncs backupOf(int chunks, long packBytes) throws IOException {
        SyncCounting store = new SyncCounting(dir.resolve("repo-" + chunks + "-" + packBytes));
        // Made first, so that only the backup's own syncs are counted, not the making of the repository.
        Repository.openForBackup(store, Images.CHUNK, packBytes, Duration.ZERO).close();
        byte[] content = new byte[chunks * Images.CHUNK];
        new Random(chunks).nextBytes(content);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda-" + chunks + ".img"), content);
        store.files.set(0);
        store.dirs.set(0);
        try (Repository r = Repository.openForBackup(store, Images.CHUNK, packBytes, Duration.ZERO)) {
            long stored = new BackupEngine(r, BackupEngine.Options.defaults(), ProgressListener.NONE)
                    .run(Images.source(vda.take())).devices().getFirst().chunksNew();
            assertEquals(chunks, stored, "every chunk is new");
        }
        return new Syncs(store.files.get(), store.dirs.get(), store.list(ChunkStore.Kind.PACK).size());
    }

    @Test
    void aBackupMakesAsManySyncsForEightTimesTheChunks() throws IOException {
        // Packs large enough for every chunk of either backup: one pack each.
        long pack = 1024L * Images.CHUNK;
        Syncs small = backupOf(64, pack);
        Syncs large = backupOf(512, pack);
        assertEquals(1, small.packs());
        assertEquals(1, large.packs());
        assertEquals(small, large, "the syncs of a backup do not grow with its chunks");
        assertEquals(small.packs() + 3, small.files(), "the pack, the index, the manifest and the summary, once each");
    }

    @Test
    void withSmallPacksTheSyncsFollowThePacksNotTheChunks() throws IOException {
        long pack = 16L * Images.CHUNK;
        for (int chunks : new int[] {64, 512}) {
            Syncs s = backupOf(chunks, pack);
            assertTrue(s.packs() > 1 && s.packs() < chunks, s.packs() + " packs for " + chunks + " chunks");
            assertEquals(s.packs() + 3, s.files(), chunks + " chunks: one sync per pack, then index, manifest, "
                    + "summary");
        }
    }
}
