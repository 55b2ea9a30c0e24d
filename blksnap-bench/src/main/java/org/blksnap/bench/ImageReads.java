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
            + "queue depth; but with every other chunk changed, a 1 MiB read of the image is four 256 KiB "
            + "requests, two on the original and two on the storage, where the original's is one. The row "
            + "'sequential reads in chunk-sized requests' measures what that costs on these disks without the "
            + "module: the original read once more in 256 KiB requests, four times as many in flight. The "
            + "image's ratio is near that row's: the time goes to the number of requests, and the data of "
            + "this image lies in two places, so no merging inside the module can make them fewer. A chunk "
            + "size of 1 MiB or more (chunk_minimum_shift) would, for reads this large.");
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
            long piece = b.chunkBytes();
            int depth = p.iodepth() * (int) Math.max(1, seq.blockSize() / piece);
            FioJob pieces = new FioJob("s5-orig-read-pieces", dev, "read", piece, seq.size(), 0, 0, 0, depth);
            b.measured(number(), "sequential reads in chunk-sized requests, original", pieces, b.fio(pieces),
                    orig, null, "the requests of the image read above without the module: the original in "
                            + (piece >> 10) + " KiB reads, " + depth + " in flight; ratio to its 1 MiB read");
            FioJob rnd = Jobs.randomRead("s5-orig-randread-4k", dev, p);
            orig = b.fio(rnd);
            FioJob rndImage = rnd.on("s5-image-randread-4k", image);
            b.measured(number(), "4 KiB random image read", rndImage, b.fio(rndImage), orig, TARGET, note);
        } finally {
            Bench.detach(dev);
        }
    }
}
