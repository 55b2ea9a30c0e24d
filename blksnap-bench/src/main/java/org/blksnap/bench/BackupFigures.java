package org.blksnap.bench;

/**
 * Scenario 8: backup figures. The backup engine (blksnap-backup) is not
 * part of this tree yet; when it is, measure a full backup against a raw
 * read of the image, and an incremental after a 1% change against the
 * full one, here.
 */
final class BackupFigures extends Scenario {
    private static final String WHY = "the backup engine (blksnap-backup) is not merged yet";

    BackupFigures() {
        super(8, "backup figures");
    }

    @Override
    void run(Bench b) {
        b.add(Measurement.notAvailable(number(), "full backup vs raw image read", WHY));
        b.add(Measurement.notAvailable(number(), "incremental after 1% change vs full", WHY));
    }
}
