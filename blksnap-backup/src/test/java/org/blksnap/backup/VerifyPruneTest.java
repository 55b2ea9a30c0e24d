package org.blksnap.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;

import org.blksnap.backup.engine.BackupResult;
import org.blksnap.backup.engine.Checker;
import org.blksnap.backup.engine.Pruner;
import org.blksnap.backup.engine.RestoreEngine;
import org.blksnap.backup.engine.RestoreTarget;
import org.blksnap.backup.engine.Verifier;
import org.blksnap.backup.repo.BackupSummary;
import org.blksnap.backup.repo.ChunkException;
import org.blksnap.backup.repo.ChunkId;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.PackFormat;
import org.blksnap.backup.repo.Repository;
import org.blksnap.backup.repo.RepositoryException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyPruneTest {
    @TempDir
    Path dir;

    @Test
    void aDamagedOrMissingChunkIsNamedByVerifyAndRestore() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(16 * Images.CHUNK, 20));
        BackupResult r = fx.backup(vda.take());
        ChunkId damaged = fx.chunkOf(r.backupId(), 1);
        ChunkId missing = fx.chunkOf(r.backupId(), 2);
        fx.damage(damaged);
        fx.dropFromIndex(missing);

        Verifier.Report quick = fx.verify(false);
        assertEquals(1, quick.problems().size(), "without --read-data no chunk data is read: " + quick.problems());
        assertTrue(quick.problems().getFirst().contains(missing + " is missing"), quick.problems().toString());
        Verifier.Report report = fx.verify(true);
        assertEquals(2, report.problems().size(), report.problems().toString());
        assertTrue(report.problems().stream().anyMatch(p -> p.contains(damaged.toString()) && p.contains("damaged")
                && p.contains("checksum")));
        assertTrue(report.problems().stream().anyMatch(p -> p.contains(missing.toString()) && p.contains("missing")));
        ChunkException e = assertThrows(ChunkException.class, () -> fx.restore(r.backupId(), null));
        assertTrue(e.getMessage().contains(damaged.toString()) || e.getMessage().contains(missing.toString()),
                e.getMessage());
        assertFalse(Files.list(dir).anyMatch(p -> p.toString().endsWith(".blksnap-partial")),
                "a failed restore leaves no partial file");
    }

    @Test
    void restoreIgnoringErrorsWritesZerosForWhatIsLostAndNamesIt() throws IOException {
        Fixture fx = new Fixture(dir);
        byte[] content = Images.content(16 * Images.CHUNK, 28);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), content);
        BackupResult r = fx.backup(vda.take());
        ChunkId damaged = fx.chunkOf(r.backupId(), 1);
        ChunkId missing = fx.chunkOf(r.backupId(), 9);
        fx.damage(damaged);
        fx.dropFromIndex(missing);
        Path out = dir.resolve("out.img");
        RestoreEngine.Result result;
        try (Repository repo = fx.read()) {
            Manifest m = repo.manifest(r.backupId());
            result = RestoreEngine.of(repo).restore(m, m.devices().getFirst(), RestoreTarget.of(out, true), true, true);
        }
        assertEquals(2, result.lost().size(), result.lost().toString());
        assertTrue(result.lost().get(0).startsWith("bytes " + Images.CHUNK + ".." + (2 * Images.CHUNK - 1)
                + " written as zeros: chunk " + damaged), result.lost().get(0));
        assertTrue(result.lost().get(1).contains("chunk " + missing + " is missing"), result.lost().get(1));
        byte[] expected = content.clone();
        java.util.Arrays.fill(expected, Images.CHUNK, 2 * Images.CHUNK, (byte) 0);
        java.util.Arrays.fill(expected, 9 * Images.CHUNK, 10 * Images.CHUNK, (byte) 0);
        assertArrayEquals(expected, Files.readAllBytes(out));
    }

    @Test
    void checkNamesAndRepairRemovesAnInterruptedBackupsPackAndKeepsTheRest() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(8 * Images.CHUNK, 29));
        BackupResult r = fx.backup(vda.take());
        // What a killed backup leaves: a pack published but cut short, named by no index.
        Path leftover = fx.repoStore().path(ChunkStore.Kind.PACK, "00deadbeef");
        Files.createDirectories(leftover.getParent());
        Files.write(leftover, new byte[] {'B', 'S', 'P', '2', 1, 2, 3});
        Checker.Report found;
        try (Repository repo = fx.read()) {
            found = new Checker(repo, Verifier.of(repo)).check(100, false);
        }
        assertEquals(1, found.problems().size(), found.problems().toString());
        assertTrue(found.problems().getFirst().contains("pack 00deadbeef is incomplete"), found.problems().toString());
        assertTrue(found.chunks().clean());
        Checker.Report repaired;
        try (Repository repo = Repository.open(fx.repoStore(), ChunkStore.LockMode.EXCLUSIVE)) {
            repaired = new Checker(repo, Verifier.of(repo)).check(10, true);
        }
        assertTrue(repaired.clean(), repaired.toString());
        assertEquals(1, repaired.repaired().size(), repaired.repaired().toString());
        assertFalse(Files.exists(leftover));
        assertArrayEquals(Images.content(8 * Images.CHUNK, 29), fx.restore(r.backupId(), null));
    }

    @Test
    void aMissingOrTruncatedPackIsNamedWithoutReadingData() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(16 * Images.CHUNK, 24));
        BackupResult r = fx.backup(vda.take());
        Path pack = fx.packOf(fx.chunkOf(r.backupId(), 0));
        byte[] bytes = Files.readAllBytes(pack);
        Files.write(pack, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        Verifier.Report report = fx.verify(false);
        assertFalse(report.clean());
        assertTrue(report.problems().getFirst().contains("is cut short"), report.problems().toString());
        Files.delete(pack);
        assertTrue(fx.verify(false).problems().getFirst().contains("is missing"));
    }

    @Test
    void readDataFindsAChunkWhoseDataDoesNotMatchItsId() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(8 * Images.CHUNK, 21));
        BackupResult r = fx.backup(vda.take());
        ChunkId id = fx.chunkOf(r.backupId(), 0);
        ChunkId other = fx.chunkOf(r.backupId(), 1);
        // Intact bytes under the wrong id (the index points chunk 0 at chunk
        // 1's frame): only decompressing and hashing can tell.
        LocalDirectoryStore store = fx.repoStore();
        for (String n : store.list(ChunkStore.Kind.INDEX)) {
            List<PackFormat.PackEntries> packs = PackFormat.decodeIndex(store.get(ChunkStore.Kind.INDEX, n), n);
            List<PackFormat.PackEntries> swapped = new java.util.ArrayList<>();
            for (PackFormat.PackEntries p : packs) {
                PackFormat.Entry o = p.entries().stream().filter(e -> e.id().equals(other)).findFirst().orElseThrow();
                swapped.add(new PackFormat.PackEntries(p.name(), p.entries().stream().map(e -> e.id().equals(id)
                        ? new PackFormat.Entry(id, o.offset(), o.length(), o.plainLength(), o.crc()) : e).toList()));
            }
            byte[] idx = PackFormat.encodeIndex(swapped);
            store.delete(ChunkStore.Kind.INDEX, n);
            store.put(ChunkStore.Kind.INDEX, n, idx, idx.length);
        }
        assertTrue(fx.verify(false).clean());
        Verifier.Report deep = fx.verify(true);
        assertEquals(1, deep.problems().size());
        assertTrue(deep.problems().getFirst().contains(id.toString()), deep.problems().toString());
    }

    @Test
    void pruneRemovesOldBackupsThenOnlyUnreferencedChunks() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(16 * Images.CHUNK, 22));
        BackupResult first = fx.backup(vda.take());
        ChunkId replaced = fx.chunkOf(first.backupId(), 1);
        vda.write(Images.CHUNK, new byte[] {1, 2, 3});
        BackupResult second = fx.backup(vda.take());
        long chunksBefore = fx.chunkCount();

        Pruner.Result result;
        try (Repository repo = Repository.open(fx.repoStore(), ChunkStore.LockMode.EXCLUSIVE)) {
            Pruner.Result dry = new Pruner(repo).prune(1, 0, true);
            assertEquals(List.of(first.backupId()), dry.removed());
            assertEquals(2, repo.manifests().size(), "a dry run changes nothing");
            result = new Pruner(repo).prune(1, 0, false);
        }
        assertEquals(List.of(first.backupId()), result.removed());
        assertEquals(List.of(second.backupId()), result.kept());
        assertEquals(1, result.chunksRemoved(), "only the chunk the old backup alone used");
        assertEquals(null, fx.where(replaced));
        assertEquals(chunksBefore - 1, fx.chunkCount());
        assertEquals(1, Fixture.count(fx.repoDir().resolve("index")), "one consolidated index");
        assertArrayEquals(vda.bytes(), fx.restore(second.backupId(), null));
        assertTrue(fx.verify(true).clean());
        // The chain goes on from the kept backup.
        vda.write(5L * Images.CHUNK, new byte[] {4});
        assertEquals("incremental", fx.backup(vda.take()).devices().getFirst().mode());
    }

    @Test
    void forgetRemovesOneBackupAndThePacksOnlyItNeeded() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(8 * Images.CHUNK, 25));
        BackupResult first = fx.backup(vda.take());
        vda.write(0, Images.content(8 * Images.CHUNK, 26));
        BackupResult second = fx.backup(vda.take());
        long packs = fx.repoStore().list(ChunkStore.Kind.PACK).size();
        Pruner.Garbage g;
        try (Repository repo = Repository.open(fx.repoStore(), ChunkStore.LockMode.EXCLUSIVE)) {
            g = new Pruner(repo).forget(List.of(second.backupId()));
            assertThrows(RepositoryException.class, () -> new Pruner(repo).forget(List.of("20990101-000000-0000")));
        }
        assertEquals(1, g.packsRemoved(), "the second backup's pack");
        assertTrue(g.bytesFreed() > 0);
        assertEquals(packs - 1, fx.repoStore().list(ChunkStore.Kind.PACK).size());
        assertArrayEquals(Images.content(8 * Images.CHUNK, 25), fx.restore(first.backupId(), null));
        assertTrue(fx.verify(true).clean());
    }

    @Test
    void garbageCollectionRefusesToGuessWhenAManifestIsDamaged() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(8 * Images.CHUNK, 23));
        BackupResult r = fx.backup(vda.take());
        Path manifest = fx.repoDir().resolve("manifests").resolve(r.backupId());
        Files.writeString(manifest, "{");
        long chunks = fx.chunkCount();
        try (Repository repo = Repository.open(fx.repoStore(), ChunkStore.LockMode.EXCLUSIVE)) {
            IOException e = assertThrows(IOException.class, () -> new Pruner(repo).collectGarbage());
            assertTrue(e.getMessage().contains("nothing was collected"), e.getMessage());
        }
        assertEquals(chunks, fx.chunkCount());
    }

    @Test
    void listAndLatestSkipADamagedSummaryWithAWarning() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(8 * Images.CHUNK, 27));
        BackupResult older = fx.backup(vda.take());
        vda.write(0, new byte[] {9});
        BackupResult newer = fx.backup(vda.take());
        Files.writeString(fx.repoDir().resolve("summaries").resolve(newer.backupId() + ".json"), "{\"format\":");
        try (Repository repo = fx.read()) {
            Repository.Listing l = repo.summaries();
            assertEquals(List.of(older.backupId()), l.backups().stream().map(BackupSummary::id).toList());
            assertEquals(1, l.warnings().size());
            assertTrue(l.warnings().getFirst().startsWith("backup " + newer.backupId() + ": its summary is damaged"),
                    l.warnings().getFirst());
            assertEquals(older.backupId(), repo.summary("latest").id());
        }
        assertArrayEquals(Images.content(8 * Images.CHUNK, 27), fx.restore("latest", null));

        // A newest backup whose summary reads but whose manifest does not: latest is the one before.
        vda.write(0, new byte[] {10});
        BackupResult newest = fx.backup(vda.take());
        Path manifest = fx.repoDir().resolve("manifests").resolve(newest.backupId());
        byte[] bytes = Files.readAllBytes(manifest);
        bytes[bytes.length / 2] ^= 1;
        Files.write(manifest, bytes);
        try (Repository repo = fx.read()) {
            List<String> warnings = new java.util.ArrayList<>();
            assertEquals(older.backupId(), repo.latestManifest(warnings).id());
            assertEquals(2, warnings.size(), warnings.toString());
            assertTrue(warnings.get(1).startsWith("backup " + newest.backupId() + ": its manifest is damaged"),
                    warnings.toString());
        }
    }

    @Test
    void keepDailyKeepsTheNewestOfEachDay() {
        List<BackupSummary> all = List.of(at("a", "2026-11-20T08:00:00Z"), at("b", "2026-11-20T20:00:00Z"),
                at("c", "2026-11-21T09:00:00Z"), at("d", "2026-11-22T09:00:00Z"), at("e", "2026-11-22T10:00:00Z"));
        assertEquals(Set.of("e", "c"), Pruner.keep(all, 0, 2, ZoneOffset.UTC));
        assertEquals(Set.of("e", "d", "c", "b"), Pruner.keep(all, 2, 3, ZoneOffset.UTC));
        assertEquals(Set.of("a", "b", "c", "d", "e"), Pruner.keep(all, 9, 0, ZoneOffset.UTC));
    }

    private static BackupSummary at(String id, String when) {
        Instant.parse(when);
        return new BackupSummary(BackupSummary.FORMAT, id, null, when, when, "t", Images.CHUNK,
                List.of(new BackupSummary.DeviceSummary("/dev/x", null, 1, "full", null, null, 0, 0, 1, 0, 1)));
    }
}
