package org.blksnap.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.BackupResult;
import org.blksnap.backup.engine.ProgressListener;
import org.blksnap.backup.engine.RestoreEngine;
import org.blksnap.backup.engine.RestoreTarget;
import org.blksnap.backup.engine.SourceDevice;
import org.blksnap.backup.engine.Verifier;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.Repository;

/** Shortcuts over a repository in a temporary directory. */
final class Fixture {
    final Path dir;

    Fixture(Path dir) {
        this.dir = dir;
    }

    Path repoDir() {
        return dir.resolve("repo");
    }

    BackupResult backup(ChunkStore store, boolean full, SourceDevice... devices) throws IOException {
        try (Repository repo = Repository.openOrCreate(store, Images.CHUNK)) {
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
        return Repository.open(repoStore(), ChunkStore.LockMode.SHARED);
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

    Verifier.Report verify(boolean readData) throws IOException {
        try (Repository repo = read()) {
            return Verifier.of(repo).verify(repo.manifests(), readData);
        }
    }
}
