package org.blksnap.itest.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.SnapshotId;
import org.blksnap.itest.support.Shell;
import org.junit.jupiter.api.Test;

/**
 * A take and the writes that are still in flight when it happens. A
 * filesystem freeze does not wait for a write to the raw device; the take
 * itself must, or copy-on-write reads a chunk before a write stamped
 * before the take has landed, and the image (and so the backup chain)
 * loses that write for good.
 */
class InFlightTakeIT {
    private static final DiffStorage TMP = DiffStorage.directory(Path.of("/tmp"));
    /** Long enough that the take and the second write certainly run while W1 is held. */
    private static final int WRITE_DELAY_MS = 5000;
    private static final int CHUNK = 256 << 10;
    private static final String NAME = "itest-inflight";

    @Test
    void aWriteInFlightAtTheTakeIsInTheImageAndInItsCbt() throws Exception {
        try (Rig rig = new Rig()) {
            Path lower = rig.loop(64L << 20);
            Data.writeFill(lower, 0, CHUNK, 0x11);
            long sectors = Data.sizeOf(lower) / 512;
            // Reads pass at once, writes are held WRITE_DELAY_MS: the
            // copy-on-write read of W2 would overtake W1.
            Path slow = rig.dm(NAME, "0 " + sectors + " delay " + lower + " 0 0 " + lower + " 0 "
                    + WRITE_DELAY_MS);
            rig.attach(slow);
            SnapshotId id = rig.create(TMP, 1L << 20);
            try (Filter f = Filter.open(slow)) {
                f.snapshotAdd(id);
            }

            CompletableFuture<Void> w1 = CompletableFuture.runAsync(() -> {
                try {
                    Data.writeFill(slow, 0, 4096, 0x22);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            awaitWriteHeld(NAME);
            rig.blksnap().take(id);
            Data.writeFill(slow, 65536, 4096, 0x33);
            w1.get(60, TimeUnit.SECONDS);

            Path image = Rig.info(slow).imagePath().orElseThrow();
            assertEquals("22", Data.fillOf(image, 0, 4096),
                    "W1, submitted before the take and still in flight, is in the image");
            assertEquals("11", Data.fillOf(image, 65536, 4096), "W2, submitted after the take, is not");
            assertEquals("11", Data.fillOf(image, 8192, 4096), "the rest of the chunk is the original");
            try (Filter f = Filter.open(slow)) {
                int taken = f.cbtInfo().changesNumber();
                assertEquals(taken, f.readCbtMap()[0],
                        "W1 is among the changes of this take, so the backup made from it reads W1");
            }
            assertEquals("33", Data.fillOf(slow, 65536, 4096));
            assertEquals("22", Data.fillOf(slow, 0, 4096));
        }
    }

    /**
     * W1 has passed the filter once dm-delay holds it: the delay target's
     * status counts the bios it holds, reads, writes and flushes
     * ("0 N delay R W F").
     */
    private static void awaitWriteHeld(String name) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String status = "";
        while (System.nanoTime() < deadline) {
            status = Shell.sh("dmsetup", "status", name);
            String[] f = status.split("\\s+");
            if (f.length >= 6 && f[2].equals("delay") && Long.parseLong(f[4]) > 0) {
                return;
            }
            Thread.sleep(20);
        }
        fail("dm-delay never held W1: " + status);
    }
}
