package org.blksnap.backup;

import java.io.IOException;
import java.nio.file.Path;

import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.ProgressListener;
import org.blksnap.backup.repo.Repository;
import org.blksnap.backup.repo.s3.S3Store;

/**
 * Child JVM of {@link S3RepositoryTest}'s kill test: a full backup into an
 * S3 repository with packs of several multipart parts, through a slow link.
 */
public final class S3KillTarget {
    /** Packs of three 5 MiB parts (the last one short). */
    static final long PACK = 12L << 20;

    private S3KillTarget() {
    }

    /** @param args repository, image file @throws IOException if the backup fails */
    public static void main(String[] args) throws IOException {
        Images.Device dev = new Images.Device("/dev/vda", Path.of(args[1]), null);
        try (S3Store store = S3Server.store(args[0], S3Server.testOptions().withParts(5 << 20, 2));
                Repository repo = Repository.openForBackup(store, Images.CHUNK, PACK, java.time.Duration.ZERO)) {
            new BackupEngine(repo, BackupEngine.Options.defaults().withFull(true), ProgressListener.NONE)
                    .run(Images.source(dev.take()));
        }
    }
}
