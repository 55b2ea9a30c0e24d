package org.blksnap.bench;

import java.nio.file.Path;
import java.util.List;

import org.blksnap.api.Session;

/**
 * Scenario 5: reading the snapshot image against reading the original,
 * with every other chunk changed after the take (so half the image comes
 * from the difference storage).
 */
final class ImageReads extends Scenario {
    private static final Target TARGET = Target.ratioAtLeast(0.9,
            "a piece of an unchanged chunk goes to the original, and a piece of a stored chunk to the storage, "
            + "as clones of the image's bio (snapimage.c snapimage_read), asynchronously, so the job keeps its "
            + "queue depth; but the image splits every read at chunk borders, so each 1 MiB read of the job "
            + "becomes four 256 KiB requests on two disks where the original's is one, and a request on these "
            + "emulated disks costs about the same whatever its size (scenario 4's QD1 costs). Fix: merge the "
            + "pieces of consecutive unchanged chunks into one clone, and of chunks stored one after the other "
            + "(a run's slots are consecutive) into one read of the storage.");

    ImageReads() {
        super(5, "snapshot image reads, half the chunks changed");
    }

    @Override
    void run(Bench b) throws Exception {
        Path dev = b.disks().main();
        Profile p = b.profile();
        try (Session s = b.snapshot(List.of(dev))) {
            b.fio(FioJob.strided("s5-change-half", dev, b.chunkBytes(), 2 * b.chunkBytes(), p));
            Path image = s.images().getFirst().image();
            String note = "against reads of the original in the same state";
            FioJob seq = Jobs.sequentialRead("s5-orig-read-1m", dev, p);
            FioResult orig = b.fio(seq);
            FioJob seqImage = seq.on("s5-image-read-1m", image);
            b.measured(number(), "1 MiB sequential image read", seqImage, b.fio(seqImage), orig, TARGET, note);
            FioJob rnd = Jobs.randomRead("s5-orig-randread-4k", dev, p);
            orig = b.fio(rnd);
            FioJob rndImage = rnd.on("s5-image-randread-4k", image);
            b.measured(number(), "4 KiB random image read", rndImage, b.fio(rndImage), orig, TARGET, note);
        } finally {
            Bench.detach(dev);
        }
    }
}
