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
import org.blksnap.backup.engine.Pruner;
import org.blksnap.backup.engine.Verifier;
import org.blksnap.backup.repo.ChunkCodec;
import org.blksnap.backup.repo.ChunkException;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.Repository;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyPruneTest {
    @TempDir
    Path dir;

    private String chunkOf(Fixture fx, String backup, int index) throws IOException {
        try (Repository repo = fx.read()) {
            return repo.manifest(backup).devices().getFirst().chunks().get(index);
        }
    }

    @Test
    void aDamagedOrMissingChunkIsNamedByVerifyAndRestore() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(16 * Images.CHUNK, 20));
        BackupResult r = fx.backup(vda.take());
        String damaged = chunkOf(fx, r.backupId(), 1);
        String missing = chunkOf(fx, r.backupId(), 2);
        Path file = fx.repoStore().path(ChunkStore.Kind.CHUNK, damaged);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 3] ^= 0x40;
        Files.write(file, bytes);
        Files.delete(fx.repoStore().path(ChunkStore.Kind.CHUNK, missing));

        Verifier.Report report = fx.verify(false);
        assertEquals(2, report.problems().size(), report.problems().toString());
        assertTrue(report.problems().stream().anyMatch(p -> p.contains(damaged) && p.contains("damaged")));
        assertTrue(report.problems().stream().anyMatch(p -> p.contains(missing) && p.contains("missing")));
        ChunkException e = assertThrows(ChunkException.class, () -> fx.restore(r.backupId(), null));
        assertTrue(e.getMessage().contains(damaged) || e.getMessage().contains(missing), e.getMessage());
        assertFalse(Files.list(dir).anyMatch(p -> p.toString().endsWith(".blksnap-partial")),
                "a failed restore leaves no partial file");
    }

    @Test
    void readDataFindsAChunkWhoseDataDoesNotMatchItsId() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(8 * Images.CHUNK, 21));
        BackupResult r = fx.backup(vda.take());
        String id = chunkOf(fx, r.backupId(), 0);
        // A well-formed chunk file with the wrong data under this id: only
        // decompressing and hashing can tell.
        byte[] other = new byte[Images.CHUNK];
        other[0] = 42;
        ChunkCodec.Encoded enc = ChunkCodec.encode(other, other.length, 1);
        Files.write(fx.repoStore().path(ChunkStore.Kind.CHUNK, id), java.util.Arrays.copyOf(enc.bytes(), enc.length()));
        assertTrue(fx.verify(false).clean());
        Verifier.Report deep = fx.verify(true);
        assertEquals(1, deep.problems().size());
        assertTrue(deep.problems().getFirst().contains(id), deep.problems().toString());
    }

    @Test
    void pruneRemovesOldBackupsThenOnlyUnreferencedChunks() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(16 * Images.CHUNK, 22));
        BackupResult first = fx.backup(vda.take());
        String replaced = chunkOf(fx, first.backupId(), 1);
        vda.write(Images.CHUNK, new byte[] {1, 2, 3});
        BackupResult second = fx.backup(vda.take());
        long chunksBefore = fx.repoStore().list(ChunkStore.Kind.CHUNK).size();

        Pruner.Result result;
        try (Repository repo = Repository.openOrCreate(fx.repoStore(), Images.CHUNK)) {
            Pruner.Result dry = new Pruner(repo).prune(1, 0, true);
            assertEquals(List.of(first.backupId()), dry.removed());
            assertEquals(2, repo.manifests().size(), "a dry run changes nothing");
            result = new Pruner(repo).prune(1, 0, false);
        }
        assertEquals(List.of(first.backupId()), result.removed());
        assertEquals(List.of(second.backupId()), result.kept());
        assertEquals(1, result.chunksRemoved(), "only the chunk the old backup alone used");
        assertFalse(fx.repoStore().has(ChunkStore.Kind.CHUNK, replaced));
        assertEquals(chunksBefore - 1, fx.repoStore().list(ChunkStore.Kind.CHUNK).size());
        assertArrayEquals(vda.bytes(), fx.restore(second.backupId(), null));
        assertTrue(fx.verify(true).clean());
        // The chain goes on from the kept backup.
        vda.write(5L * Images.CHUNK, new byte[] {4});
        assertEquals("incremental", fx.backup(vda.take()).devices().getFirst().mode());
    }

    @Test
    void garbageCollectionRefusesToGuessWhenAManifestIsDamaged() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(8 * Images.CHUNK, 23));
        BackupResult r = fx.backup(vda.take());
        Path manifest = fx.repoDir().resolve("manifests").resolve(r.backupId() + ".json");
        Files.writeString(manifest, "{");
        long chunks = fx.repoStore().list(ChunkStore.Kind.CHUNK).size();
        try (Repository repo = Repository.openOrCreate(fx.repoStore(), Images.CHUNK)) {
            IOException e = assertThrows(IOException.class, () -> new Pruner(repo).collectGarbage());
            assertTrue(e.getMessage().contains("no chunk was removed"), e.getMessage());
        }
        assertEquals(chunks, fx.repoStore().list(ChunkStore.Kind.CHUNK).size());
    }

    @Test
    void keepDailyKeepsTheNewestOfEachDay() {
        List<Manifest> all = List.of(at("a", "2026-11-20T08:00:00Z"), at("b", "2026-11-20T20:00:00Z"),
                at("c", "2026-11-21T09:00:00Z"), at("d", "2026-11-22T09:00:00Z"), at("e", "2026-11-22T10:00:00Z"));
        assertEquals(Set.of("e", "c"), Pruner.keep(all, 0, 2, ZoneOffset.UTC));
        assertEquals(Set.of("e", "d", "c", "b"), Pruner.keep(all, 2, 3, ZoneOffset.UTC));
        assertEquals(Set.of("a", "b", "c", "d", "e"), Pruner.keep(all, 9, 0, ZoneOffset.UTC));
    }

    private static Manifest at(String id, String when) {
        Instant.parse(when);
        return new Manifest(Manifest.FORMAT, id, null, when, when, "t", Images.CHUNK,
                List.of(new Manifest.DeviceImage("/dev/x", 1, "full", null, null, 0, 0, 1,
                        java.util.Collections.singletonList(null))));
    }
}
