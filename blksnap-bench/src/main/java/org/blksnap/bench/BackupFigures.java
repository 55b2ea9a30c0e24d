package org.blksnap.bench;

/**
 * Scenario 8: backup figures. The backup engine (blksnap-backup) is not
 * part of this tree yet; when it is, measure a full backup against a raw
 * read of the image, and an incremental after a 1% change against the
 * full one, here.
 */
final class BackupFigures implements Scenario {
    private static final String WHY = "the backup engine (blksnap-backup) is not merged yet";

    @Override
    public int number() {
        return 8;
    }

    @Override
    public String title() {
        return "backup figures";
    }

    @Override
    public void run(Bench b) {
        b.add(Measurement.notAvailable(8, "full backup vs raw image read", WHY));
        b.add(Measurement.notAvailable(8, "incremental after 1% change vs full", WHY));
    }
}
