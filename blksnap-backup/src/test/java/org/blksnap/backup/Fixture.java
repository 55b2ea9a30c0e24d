package org.blksnap.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.BackupResult;
import org.blksnap.backup.engine.ProgressListener;
import org.blksnap.backup.engine.RestoreEngine;
import org.blksnap.backup.engine.RestoreTarget;
import org.blksnap.backup.engine.SourceDevice;
import org.blksnap.backup.engine.Verifier;
import org.blksnap.backup.repo.ChunkId;
import org.blksnap.backup.repo.ChunkIndex;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.PackFormat;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.Repository;

/** Shortcuts over a repository in a temporary directory. */
final class Fixture {
    /** The password of encrypted test repositories. */
    static final org.blksnap.backup.repo.Secret TEST_PASSWORD =
            new org.blksnap.backup.repo.Secret.Password("test password".toCharArray());
    /** Argon2id cheap enough to open a repository hundreds of times. */
    static final org.blksnap.backup.repo.KeyRing.Argon2 CHEAP = new org.blksnap.backup.repo.KeyRing.Argon2(64, 1, 1);

    final Path dir;
    final boolean encrypted;

    Fixture(Path dir) {
        this(dir, false);
    }

    Fixture(Path dir, boolean encrypted) {
        this.dir = dir;
        this.encrypted = encrypted;
    }

    /** Opens (creating, encrypted if this fixture is) a repository of test geometry. */
    Repository openToBackUp(ChunkStore store) throws IOException {
        return Repository.openForBackup(store, new Repository.NewRepository(Images.CHUNK, Images.PACK, encrypted,
                CHEAP), java.time.Duration.ZERO, () -> TEST_PASSWORD);
    }

    /** Opens an existing repository with the test password. */
    Repository open(ChunkStore store, ChunkStore.LockMode mode) throws IOException {
        return Repository.open(store, mode, java.time.Duration.ZERO, () -> TEST_PASSWORD);
    }

    Path repoDir() {
        return dir.resolve("repo");
    }

    /**
     * Opens (creating) a repository of test geometry: small chunks, and
     * packs of four chunks, so a few MiB of test data span many packs.
     */
    static Repository openForBackup(ChunkStore store) throws IOException {
        return Repository.openForBackup(store, Images.CHUNK, Images.PACK, java.time.Duration.ZERO);
    }

    BackupResult backup(ChunkStore store, boolean full, SourceDevice... devices) throws IOException {
        try (Repository repo = openToBackUp(store)) {
            return new BackupEngine(repo, BackupEngine.Options.defaults().withFull(full), ProgressListener.NONE)
                    .run(Images.source(devices));
        }
    }

    BackupResult backup(SourceDevice... devices) throws IOException {
        return backup(repoStore(), false, devices);
    }

    /**
     * The repository's store without fsync: the tests check what a crash
     * leaves by stopping the protocol (see CrashPointTest), not by cutting
     * power, and fsync on a busy host costs seconds. KillTest runs the real one.
     */
    LocalDirectoryStore repoStore() {
        return new Unsynced(repoDir());
    }

    /** A local store that skips fsync. */
    static class Unsynced extends LocalDirectoryStore {
        Unsynced(Path root) {
            super(root);
        }

        @Override
        protected void syncFile(java.nio.channels.FileChannel ch) {
        }

        @Override
        protected void syncDir(Path dir) {
        }
    }

    /** Files in a directory, for counting chunks. */
    static long count(Path d) {
        try (var s = Files.list(d)) {
            return s.count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    Repository read() throws IOException {
        return open(repoStore(), ChunkStore.LockMode.SHARED);
    }

    byte[] restore(String backup, String device) throws IOException {
        Path out = Files.createTempFile(dir, "restored-", ".img");
        try (Repository repo = read()) {
            Manifest m = repo.manifest(backup);
            RestoreEngine.of(repo).restore(m, RestoreEngine.select(m, device), RestoreTarget.of(out, true), true);
        }
        byte[] b = Files.readAllBytes(out);
        Files.delete(out);
        return b;
    }

    /** @return chunks the repository's index holds */
    long chunkCount() throws IOException {
        try (Repository repo = read()) {
            return repo.index().size();
        }
    }

    /** @return the id of chunk {@code index} of the backup's first device */
    ChunkId chunkOf(String backup, int index) throws IOException {
        try (Repository repo = read()) {
            return repo.manifest(backup).devices().getFirst().chunks().get(index);
        }
    }

    /** @return where a chunk is stored */
    ChunkIndex.Location where(ChunkId id) throws IOException {
        try (Repository repo = read()) {
            return repo.index().get(id);
        }
    }

    /** @return the packs holding a chunk some backup needs */
    java.util.Set<String> referencedPacks() throws IOException {
        java.util.Set<String> packs = new java.util.HashSet<>();
        try (Repository repo = read()) {
            for (Manifest m : repo.manifests()) {
                for (Manifest.DeviceImage d : m.devices()) {
                    for (int i = 0; i < d.chunks().size(); i++) {
                        ChunkId id = d.chunks().get(i);
                        if (id != null) {
                            packs.add(repo.index().get(id).pack());
                        }
                    }
                }
            }
        }
        return packs;
    }

    /** @return the pack file holding a chunk */
    Path packOf(ChunkId id) throws IOException {
        return repoStore().path(ChunkStore.Kind.PACK, where(id).pack());
    }

    /** Flips a bit inside a chunk's stored bytes, as a bad disk would. */
    void damage(ChunkId id) throws IOException {
        ChunkIndex.Location loc = where(id);
        try (var ch = java.nio.channels.FileChannel.open(packOf(id), java.nio.file.StandardOpenOption.READ,
                java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
            long at = loc.offset() + loc.length() / 2;
            ch.read(b, at);
            b.put(0, (byte) (b.get(0) ^ 0x40)).rewind();
            ch.write(b, at);
        }
    }

    /** Rewrites the index without a chunk, as if it had never been stored. */
    void dropFromIndex(ChunkId id) throws IOException {
        LocalDirectoryStore store = repoStore();
        List<PackFormat.PackEntries> kept = new ArrayList<>();
        List<String> names = store.list(ChunkStore.Kind.INDEX);
        for (String n : names) {
            for (PackFormat.PackEntries p : PackFormat.decodeIndex(store.get(ChunkStore.Kind.INDEX, n), n)) {
                kept.add(new PackFormat.PackEntries(p.name(), p.entries().stream().filter(e -> !e.id().equals(id))
                        .toList()));
            }
            store.delete(ChunkStore.Kind.INDEX, n);
        }
        byte[] idx = PackFormat.encodeIndex(kept);
        store.put(ChunkStore.Kind.INDEX, "rewritten", idx, idx.length);
    }

    Verifier.Report verify(boolean readData) throws IOException {
        try (Repository repo = read()) {
            return Verifier.of(repo).verify(repo.manifests(), readData);
        }
    }
}
