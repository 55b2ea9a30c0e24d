package org.blksnap.backup;

import java.io.IOException;
import java.nio.file.Path;

import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.ProgressListener;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.Repository;

/**
 * Child JVM of {@link KillTest}: a backup through the real, fsyncing store,
 * slowed at each rename so the parent can kill it in the middle.
 */
public final class KillTarget {
    private KillTarget() {
    }

    /** @param args repository, image file @throws IOException if the backup fails */
    public static void main(String[] args) throws IOException {
        Images.Device dev = new Images.Device("/dev/vda", Path.of(args[1]), null);
        LocalDirectoryStore slow = new LocalDirectoryStore(Path.of(args[0])) {
            @Override
            protected void step(Step step, Path path) {
                if (step == Step.RENAME) {
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        };
        try (Repository repo = Fixture.openForBackup(slow)) {
            new BackupEngine(repo, BackupEngine.Options.defaults().withFull(true), ProgressListener.NONE)
                    .run(Images.source(dev.take()));
        }
    }
}
