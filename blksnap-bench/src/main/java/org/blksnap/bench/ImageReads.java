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
            "the image serves its bios one after another from a single work item (snapimage.c), each with "
            + "a synchronous read of the original or the storage, so the job's queue depth collapses to one. "
            + "Fix: remap reads of unchanged chunks to the original as cloned bios, and serve several bios "
            + "at once with asynchronous reads of the storage.");

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
