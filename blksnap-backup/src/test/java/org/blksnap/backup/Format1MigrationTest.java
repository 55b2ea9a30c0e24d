package org.blksnap.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.blksnap.api.Uuid;
import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.BackupResult;
import org.blksnap.backup.engine.ProgressListener;
import org.blksnap.backup.repo.BackupSummary;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.Format1Migration;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.Repository;
import org.blksnap.backup.repo.RepositoryException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * {@code blksnap backup migrate} on a format 1 repository written by the
 * format 1 code itself (src/test/fixtures: see its README): every backup
 * restores as the image it saved, the chain continues with an incremental,
 * and a migration stopped at any step leaves either the format 1 repository
 * as it was, file for file, or the complete format 2 one.
 */
class Format1MigrationTest {
    private static final Path FIXTURE = Path.of("src/test/fixtures/v1-repository");

    @TempDir
    Path dir;

    /** Backup id, then device, then the SHA-256 of the image it saved. */
    private static Map<String, Map<String, String>> expected() throws IOException {
        return new ObjectMapper().readValue(FIXTURE.resolve("expected.json").toFile(),
                new TypeReference<Map<String, Map<String, String>>>() { });
    }

    /** The fixture's files by relative path (git keeps no empty directory: tmp/ is made here). */
    private static Map<String, byte[]> files(Path root) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                if (Files.isRegularFile(p)) {
                    out.put(root.relativize(p).toString(), Files.readAllBytes(p));
                }
            }
        }
        return out;
    }

    private Fixture copy(String name) throws IOException {
        Fixture fx = new Fixture(dir.resolve(name));
        CrashPointTest.copyTree(FIXTURE.resolve("repo"), fx.repoDir());
        Files.createDirectories(fx.repoDir().resolve("tmp"));
        return fx;
    }

    private static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every backup and device of the fixture restores to the image it saved; verify reads all clean. */
    private static void assertEveryBackupRestores(Fixture fx, String where) throws IOException {
        for (var b : expected().entrySet()) {
            for (var d : b.getValue().entrySet()) {
                assertEquals(d.getValue(), sha256(fx.restore(b.getKey(), d.getKey())),
                        where + ": backup " + b.getKey() + " " + d.getKey());
            }
        }
        assertTrue(fx.verify(true).clean(), where + ": verify --read-data");
    }

    private static Format1Migration.Result migrate(LocalDirectoryStore store) throws IOException {
        return new Format1Migration(store, Images.PACK).migrate(Duration.ZERO);
    }

    @Test
    void everyBackupOfAFormat1RepositoryRestoresAfterTheMigration() throws IOException {
        Fixture fx = copy("one");
        RepositoryException refused = assertThrows(RepositoryException.class, fx::read);
        assertTrue(refused.getMessage().contains("blksnap backup migrate --repo " + fx.repoDir()),
                refused.getMessage());

        Format1Migration.Result r = migrate(fx.repoStore());
        assertFalse(r.alreadyFormat2());
        assertEquals(3, r.backups());
        assertTrue(r.packs() > 1, "test-sized packs: " + r.packs());
        assertEquals(0, r.unreferenced());

        assertEveryBackupRestores(fx, "after the migration");
        List<String> ids = List.copyOf(expected().keySet());
        try (Repository repo = fx.read()) {
            assertEquals(Images.CHUNK, repo.chunkSize());
            assertEquals(Repository.FORMAT, repo.config().format());
            List<BackupSummary> list = repo.summaries().backups();
            assertEquals(ids, list.stream().map(BackupSummary::id).toList());
            assertEquals("nightly", list.get(2).tag());
            BackupSummary.DeviceSummary vda = list.get(1).devices().get(0);
            assertEquals("incremental", vda.mode());
            assertEquals(ids.get(0), vda.parent());
            assertNull(vda.identity(), "format 1 knew no identity");
            long stored = list.stream().flatMap(s -> s.devices().stream())
                    .mapToLong(BackupSummary.DeviceSummary::bytesStored).sum();
            assertEquals(r.bytes(), stored, "each chunk's bytes are counted once, by the backup that added it");
        }
        Path root = fx.repoDir();
        assertFalse(Files.exists(root.resolve("chunks")), "the format 1 chunk files are gone");
        try (Stream<Path> m = Files.list(root.resolve("manifests"))) {
            assertTrue(m.noneMatch(p -> p.toString().endsWith(".json")), "the format 1 manifests are gone");
        }
        assertEquals(0, Fixture.count(root.resolve("tmp")));
        assertTrue(migrate(fx.repoStore()).alreadyFormat2(), "a second migration has nothing to do");
    }

    @Test
    void theChainOfIncrementalsContinuesFromAMigratedBackup() throws IOException {
        Fixture fx = copy("chain");
        migrate(fx.repoStore());
        String latest = List.copyOf(expected().keySet()).get(2);
        BackupSummary.DeviceSummary before;
        try (Repository repo = fx.read()) {
            before = repo.summary(latest).devices().get(0);
        }
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), fx.restore(latest, "/dev/vda"));
        vda.generation = Uuid.parse(before.generationId());
        vda.changesNumber = before.changesNumber();
        vda.write(5L * Images.CHUNK + 1, new byte[] {42});
        BackupResult inc;
        try (Repository repo = fx.openToBackUp(fx.repoStore())) {
            inc = new BackupEngine(repo, BackupEngine.Options.defaults(), ProgressListener.NONE)
                    .run(Images.source(vda.take()));
        }
        var d = inc.devices().getFirst();
        assertEquals("incremental", d.mode(), d.reason());
        assertEquals(1, d.chunksRead(), "only the chunk of the changed CBT block is read");
        assertEquals(Images.CHUNK, d.bytesRead());
        assertArrayEquals(vda.bytes(), fx.restore(inc.backupId(), "/dev/vda"));
        assertEveryBackupRestores(fx, "after an incremental on top");
    }

    @Test
    void aMigrationStoppedAtAnyStepLeavesTheFormat1RepositoryOrTheWholeFormat2One() throws IOException {
        Map<String, byte[]> original = files(FIXTURE.resolve("repo"));
        int before = 0;
        int after = 0;
        for (int n = 1; ; n++) {
            Fixture fx = copy("crash" + n);
            CrashPointTest.CrashingStore store = new CrashPointTest.CrashingStore(fx.repoDir(), n);
            try {
                migrate(store);
            } catch (LocalDirectoryStore.SimulatedCrash expected) {
                // The point of the test.
            }
            if (!store.crashed()) {
                break;
            }
            String where = "crash at step " + n + " after " + store.log;
            if (Format1Migration.isFormat1(fx.repoStore())) {
                before++;
                Map<String, byte[]> left = files(fx.repoDir());
                for (var f : original.entrySet()) {
                    assertArrayEquals(f.getValue(), left.get(f.getKey()), where + ": format 1 file " + f.getKey());
                }
                for (String f : left.keySet()) {
                    boolean format1Reads = f.startsWith("chunks/")
                            || f.startsWith("manifests/") && f.endsWith(".json");
                    assertTrue(original.containsKey(f) || !format1Reads, where + ": " + f + " is a name format 1 reads");
                }
                assertFalse(migrate(fx.repoStore()).alreadyFormat2(), where);
            } else {
                after++;
                // Readable as it is, the format 1 leftovers notwithstanding...
                try (Repository repo = fx.read()) {
                    assertEquals(3, repo.summaries().backups().size(), where);
                }
                // ...and the next command holding it alone removes them.
                assertTrue(migrate(fx.repoStore()).alreadyFormat2(), where);
                assertFalse(Files.exists(fx.repoDir().resolve("chunks")), where);
            }
            assertEveryBackupRestores(fx, where);
        }
        assertTrue(before > 20, "crash points before the commit: " + before);
        assertTrue(after > 10, "crash points after the commit: " + after);
        System.out.println("migration crash points tried: " + before + " before the commit, " + after + " after");
    }

    @Test
    void aDamagedChunkOrManifestStopsTheMigrationAndChangesNothing() throws IOException {
        Map<String, byte[]> original = files(FIXTURE.resolve("repo"));
        Fixture fx = copy("damaged-chunk");
        Path chunk;
        try (Stream<Path> s = Files.walk(fx.repoDir().resolve("chunks"))) {
            chunk = s.filter(Files::isRegularFile).sorted().findFirst().orElseThrow();
        }
        byte[] b = Files.readAllBytes(chunk);
        b[b.length - 3] ^= 1;
        Files.write(chunk, b);
        RepositoryException e = assertThrows(RepositoryException.class, () -> migrate(fx.repoStore()));
        assertTrue(e.getMessage().contains("chunk " + chunk.getFileName() + " of backup ")
                && e.getMessage().contains("is damaged"), e.getMessage());
        assertTrue(Format1Migration.isFormat1(fx.repoStore()));
        b[b.length - 3] ^= 1;
        Files.write(chunk, b);
        Map<String, byte[]> left = files(fx.repoDir());
        for (var f : original.entrySet()) {
            assertArrayEquals(f.getValue(), left.get(f.getKey()), f.getKey());
        }

        Fixture fm = copy("damaged-manifest");
        String id = List.copyOf(expected().keySet()).get(1);
        Files.writeString(fm.repoDir().resolve("manifests").resolve(id + ".json"), "{\"format\": 1, \"id\": ");
        e = assertThrows(RepositoryException.class, () -> migrate(fm.repoStore()));
        assertTrue(e.getMessage().startsWith("backup " + id + ": its format 1 manifest is damaged"),
                e.getMessage());
        assertTrue(Format1Migration.isFormat1(fm.repoStore()));
    }
}
