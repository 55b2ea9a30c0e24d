package org.blksnap.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.blksnap.backup.engine.BackupResult;
import org.blksnap.backup.engine.DeviceResult;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.Repository;
import org.blksnap.backup.repo.RepositoryBusyException;
import org.blksnap.backup.repo.RepositoryException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackupRestoreTest {
    @TempDir
    Path dir;

    @Test
    void fullBackupRestoresByteForByteAndStoresZeroChunksAsFlags() throws IOException {
        Fixture fx = new Fixture(dir);
        byte[] content = Images.content(16 * Images.CHUNK + 4096, 1);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), content);
        BackupResult r = fx.backup(vda.take());
        DeviceResult d = r.devices().getFirst();
        assertEquals("full", d.mode());
        assertEquals(content.length, d.bytesRead());
        assertEquals(17, d.chunksRead());
        assertEquals(3, d.chunksZero());
        assertEquals(1, d.chunksReused(), "the repeated chunk is stored once");
        assertEquals(13, d.chunksNew());
        assertEquals(13, fx.chunkCount());
        assertEquals(1, Fixture.count(fx.repoDir().resolve("index")), "one index object per backup");
        assertArrayEquals(content, fx.restore(r.backupId(), null));
        assertTrue(fx.verify(true).clean());
    }

    @Test
    void identicalDevicesAndRepeatedBackupsAreDeduplicated() throws IOException {
        Fixture fx = new Fixture(dir);
        byte[] content = Images.content(8 * Images.CHUNK, 2);
        Images.Device a = new Images.Device("/dev/a", dir.resolve("a.img"), content);
        Images.Device b = new Images.Device("/dev/b", dir.resolve("b.img"), content);
        BackupResult first = fx.backup(a.take(), b.take());
        // Both are read at once: which one stores a shared chunk is a race, but only one does.
        assertEquals(4, first.devices().get(0).chunksNew() + first.devices().get(1).chunksNew(),
                "8 chunks: 3 all zero, one repeated; each of the 4 distinct ones stored once");
        BackupResult again = fx.backup(fx.repoStore(), true, a.take());
        assertEquals(0, again.devices().getFirst().chunksNew());
        assertEquals(0, again.bytesStored());
        assertArrayEquals(content, fx.restore(first.backupId(), "/dev/b"));
        assertArrayEquals(content, fx.restore(again.backupId(), "/dev/a"));
    }

    @Test
    void restoreToAFileIsSparse() throws IOException {
        Fixture fx = new Fixture(dir);
        byte[] content = new byte[32 * Images.CHUNK];
        content[5] = 1;
        Path out = backUpAndRestoreToFile(fx, content, true);
        assertArrayEquals(content, Files.readAllBytes(out));
        long allocated = (Long) Files.getAttribute(out, "unix:size");
        assertEquals(content.length, allocated);
        Process p = new ProcessBuilder("stat", "-c", "%b", out.toString()).start();
        long blocks = Long.parseLong(new String(p.getInputStream().readAllBytes()).strip());
        assertTrue(blocks * 512 <= 2L * Images.CHUNK, "restored file allocates " + blocks + " blocks");
    }

    /**
     * A restore writes each byte once and reads none back: where the file
     * system takes O_DIRECT, the restored file must not be left in the page
     * cache, evicting what the machine caches for its own work.
     */
    @Test
    void restoreToAFileLeavesItOutOfThePageCache() throws Exception {
        assumeODirect();
        Fixture fx = new Fixture(dir);
        byte[] content = Images.random(48 * Images.CHUNK, 11);
        Path out = backUpAndRestoreToFile(fx, content, false);
        long cached = PageCache.residentBytes(out);
        assertTrue(cached == 0, cached + " of " + content.length + " restored bytes left in the page cache");
        assertArrayEquals(content, Files.readAllBytes(out));
    }

    /** A backup's packs are written once and not read back: they must not stay in the page cache either. */
    @Test
    void aBackupLeavesItsPacksOutOfThePageCache() throws Exception {
        assumeODirect();
        Fixture fx = new Fixture(dir);
        byte[] content = Images.random(48 * Images.CHUNK, 13);
        fx.backup(new Images.Device("/dev/vda", dir.resolve("vda.img"), content).take());
        long cached = 0;
        long bytes = 0;
        int files = 0;
        try (var packs = Files.walk(fx.repoDir().resolve("packs"))) {
            for (Path p : packs.filter(Files::isRegularFile).toList()) {
                cached += PageCache.residentBytes(p);
                bytes += Files.size(p);
                files++;
            }
        }
        assertTrue(bytes >= content.length / 2, "the packs hold the chunks: " + bytes + " bytes");
        // At most the last partial block of each pack went through the cache.
        assertTrue(cached <= 4096L * files, cached + " of " + bytes + " bytes of " + files
                + " packs left in the page cache");
    }

    /** Backs {@code content} up as /dev/vda and restores it to out.img, read back if {@code verify}. */
    private Path backUpAndRestoreToFile(Fixture fx, byte[] content, boolean verify) throws IOException {
        BackupResult r = fx.backup(new Images.Device("/dev/vda", dir.resolve("vda.img"), content).take());
        Path out = dir.resolve("out.img");
        try (Repository repo = fx.read()) {
            Manifest m = repo.manifest(r.backupId());
            org.blksnap.backup.engine.RestoreEngine.of(repo).restore(m, m.devices().getFirst(),
                    org.blksnap.backup.engine.RestoreTarget.of(out, false), verify);
        }
        return out;
    }

    /** The build's temporary directory takes O_DIRECT on the machines the project is built on; say so if not. */
    private void assumeODirect() throws IOException {
        org.junit.jupiter.api.Assertions.assertTrue(PageCache.takesODirect(dir), dir
                + " cannot be opened with O_DIRECT: run the tests with java.io.tmpdir on a disk file system");
    }

    @Test
    void badRepositoriesAreRefusedWithOneClearLine() throws IOException {
        Path missing = dir.resolve("nothing");
        RepositoryException e = assertThrows(RepositoryException.class,
                () -> Repository.open(new LocalDirectoryStore(missing), ChunkStore.LockMode.SHARED));
        assertTrue(e.getMessage().contains("is not a blksnap backup repository"), e.getMessage());

        Path other = dir.resolve("other");
        Files.createDirectories(other);
        Files.writeString(other.resolve("precious.txt"), "mine");
        e = assertThrows(RepositoryException.class,
                () -> Repository.openOrCreate(new LocalDirectoryStore(other), Images.CHUNK));
        assertTrue(e.getMessage().contains("not empty"), e.getMessage());
        assertEquals("mine", Files.readString(other.resolve("precious.txt")));
    }

    @Test
    void aDamagedManifestIsNamed() throws IOException {
        Fixture fx = new Fixture(dir);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(4 * Images.CHUNK, 3));
        BackupResult r = fx.backup(vda.take());
        Path manifest = fx.repoDir().resolve("manifests").resolve(r.backupId());
        byte[] bytes = Files.readAllBytes(manifest);
        Files.write(manifest, java.util.Arrays.copyOf(bytes, bytes.length - 10));
        try (Repository repo = fx.read()) {
            RepositoryException e = assertThrows(RepositoryException.class, () -> repo.manifest(r.backupId()));
            assertTrue(e.getMessage().startsWith("backup " + r.backupId() + ": its manifest is damaged"),
                    e.getMessage());
            assertThrows(RepositoryException.class, repo::manifests);
        }
    }

    @Test
    void readersAndBackupsShareTheRepositoryAndPruneWaitsForThem() throws Exception {
        Fixture fx = new Fixture(dir);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(4 * Images.CHUNK, 4));
        fx.backup(vda.take());
        try (Repository creating = Fixture.openForBackup(fx.repoStore())) {
            assertEquals(Images.CHUNK, creating.chunkSize());
            // While a backup runs: list and restore work, and so does another backup.
            try (Repository reader = fx.read()) {
                assertEquals(1, reader.summaries().backups().size());
            }
            fx.backup(vda.take());
            RepositoryBusyException e = assertThrows(RepositoryBusyException.class,
                    () -> Repository.open(fx.repoStore(), ChunkStore.LockMode.EXCLUSIVE));
            assertTrue(e.getMessage().contains("in use by another blksnap backup command"), e.getMessage());
        }
        // A prune holding it: readers wait as long as they were told to, then give up.
        Repository pruning = Repository.open(fx.repoStore(), ChunkStore.LockMode.EXCLUSIVE);
        RepositoryBusyException busy = assertThrows(RepositoryBusyException.class,
                () -> Repository.open(fx.repoStore(), ChunkStore.LockMode.SHARED, java.time.Duration.ofMillis(300)));
        assertTrue(busy.getMessage().contains("gave up after waiting"), busy.getMessage());
        Thread release = Thread.ofPlatform().start(() -> {
            try {
                Thread.sleep(300);
                pruning.close();
            } catch (InterruptedException | IOException x) {
                throw new IllegalStateException(x);
            }
        });
        try (Repository r = Repository.open(fx.repoStore(), ChunkStore.LockMode.SHARED,
                java.time.Duration.ofSeconds(30))) {
            assertEquals(2, r.summaries().backups().size());
        }
        release.join();
    }
}
