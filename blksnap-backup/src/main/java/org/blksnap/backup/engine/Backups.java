package org.blksnap.backup.engine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import org.blksnap.api.DiffStorage;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.Repository;

/**
 * The engine in one call, for programs and benchmarks: take a snapshot of
 * the devices, back them up into a local repository, destroy the snapshot.
 * {@link BackupResult#bytesRead()} and {@link BackupResult#elapsed()} are
 * what a benchmark compares with a raw read of the devices.
 */
public final class Backups {
    private Backups() {
    }

    /**
     * @param repoDir    repository directory (created if new)
     * @param devices    block devices, snapshotted together
     * @param storage    difference storage of the snapshot
     * @param limitBytes its limit
     * @param options    e.g. {@code Options.defaults().withFull(true)}
     * @return what was done
     * @throws IOException if the backup fails (the snapshot is destroyed anyway)
     */
    public static BackupResult backup(Path repoDir, List<Path> devices, DiffStorage storage, long limitBytes,
            BackupEngine.Options options) throws IOException {
        try (Repository repo = Repository.openOrCreate(new LocalDirectoryStore(repoDir),
                Repository.DEFAULT_CHUNK_SIZE);
                BlkSnapSource source = BlkSnapSource.take(devices, storage, limitBytes)) {
            return new BackupEngine(repo, options, ProgressListener.NONE).run(source);
        }
    }
}
