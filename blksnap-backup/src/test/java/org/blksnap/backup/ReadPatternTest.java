package org.blksnap.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

import org.blksnap.backup.engine.BackupResult;
import org.blksnap.backup.engine.DeviceResult;
import org.blksnap.backup.repo.BackupSummary;
import org.blksnap.backup.repo.ChunkIds;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What the backup engine and the listing read from the repository: an
 * incremental costs the changed blocks of the device and the previous
 * manifest, never chunk data; a listing costs the summaries, never a
 * manifest, so both stay cheap on a remote store whatever the device size.
 */
class ReadPatternTest {
    private static final int CHUNKS = 64;

    @TempDir
    Path dir;

    /** Writes to the device and marks which chunks the write touches. */
    private static void write(Images.Device d, long offset, byte[] data, BitSet touched) throws IOException {
        d.write(offset, data);
        touched.set((int) (offset / Images.CHUNK), (int) ((offset + data.length - 1) / Images.CHUNK) + 1);
    }

    @ParameterizedTest(name = "encrypted {0}")
    @ValueSource(booleans = {false, true})
    void anIncrementalReadsNoChunkDataAndTakesTheUntouchedIdsFromThePreviousManifest(boolean encrypted)
            throws IOException {
        Fixture fx = new Fixture(dir, encrypted);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"),
                Images.content(CHUNKS * Images.CHUNK, 30));
        BackupResult full = fx.backup(vda.take());
        BitSet changed = new BitSet(CHUNKS);
        write(vda, 5L * Images.CHUNK + 77, Images.random(100, 31), changed);
        write(vda, 33L * Images.CHUNK - 3, Images.random(9, 32), changed);
        byte[] state = vda.bytes();

        CountingStore counted = new CountingStore(fx.repoStore());
        BackupResult inc = fx.backup(counted, false, vda.take());
        assertEquals(0, counted.packReads(), "an incremental reads no chunk data from the repository");
        assertEquals(1, counted.manifestReads(), "the previous backup's manifest, once, is where reused ids come from");

        DeviceResult d = inc.devices().getFirst();
        assertEquals("incremental", d.mode(), d.reason());
        assertEquals(changed.cardinality(), d.chunksRead());
        assertEquals((long) changed.cardinality() * Images.CHUNK, d.bytesRead());
        assertEquals(changed.cardinality(), d.chunksNew(), "each changed chunk has new content");
        assertEquals(CHUNKS - changed.cardinality(), d.chunksReused());

        ChunkIds before;
        ChunkIds after;
        try (Repository repo = fx.read()) {
            before = repo.manifest(full.backupId()).devices().getFirst().chunks();
            after = repo.manifest(inc.backupId()).devices().getFirst().chunks();
        }
        for (int i = 0; i < CHUNKS; i++) {
            if (changed.get(i)) {
                assertNotEquals(before.get(i), after.get(i), "changed chunk " + i);
            } else {
                assertEquals(before.get(i), after.get(i), "untouched chunk " + i);
            }
        }
        assertArrayEquals(state, fx.restore(inc.backupId(), "/dev/vda"));
    }

    @Test
    void listAndLatestReadTheSummariesButNoManifest() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device a = new Images.Device("/dev/a", dir.resolve("a.img"), Images.content(16 * Images.CHUNK, 40));
        Images.Device b = new Images.Device("/dev/b", dir.resolve("b.img"), Images.content(16 * Images.CHUNK, 41));
        List<String> made = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            a.write((long) i * Images.CHUNK, Images.random(10, 42 + i));
            made.add(fx.backup(a.take(), b.take()).backupId());
        }

        CountingStore counted = new CountingStore(fx.repoStore());
        try (Repository repo = fx.open(counted, ChunkStore.LockMode.SHARED)) {
            Repository.Listing listing = repo.summaries();
            assertEquals(made, listing.backups().stream().map(BackupSummary::id).toList());
            assertTrue(listing.warnings().isEmpty(), listing.warnings()::toString);
            assertEquals(0, counted.manifestReads(), "list reads summaries only");

            assertEquals(made.getLast(), repo.summary("latest").id());
            assertEquals(made.get(2), repo.summary(made.get(2)).id());
            assertEquals(0, counted.manifestReads(), "resolving latest reads summaries only");

            List<String> warnings = new ArrayList<>();
            Manifest latest = repo.latestManifest(warnings);
            assertEquals(made.getLast(), latest.id());
            assertEquals(List.of(), warnings);
            assertEquals(1, counted.manifestReads(), "the latest manifest, and no other");
            assertEquals(0, counted.packReads());
        }
    }
}
