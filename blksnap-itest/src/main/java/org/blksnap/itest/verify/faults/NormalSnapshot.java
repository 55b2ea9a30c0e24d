package org.blksnap.itest.verify.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.SnapshotId;
import org.blksnap.itest.verify.Evidence;
import org.blksnap.itest.verify.Evidence.Tally;

/**
 * The ordinary life of a snapshot, end to end, as proof that the module
 * still works after a fault or a fuzzing session in the same boot: attach,
 * create, add, take, overwrite the original, read the image back (it must
 * hold the old data, the original the new), destroy, detach.
 */
final class NormalSnapshot {
    static final int BYTES = 4 << 20;

    private NormalSnapshot() {
    }

    static void check(Path device, Path storageDir) throws IOException {
        Random rng = new Random(device.hashCode());
        byte[] before = new byte[BYTES];
        byte[] after = new byte[BYTES];
        rng.nextBytes(before);
        rng.nextBytes(after);
        write(device, before);
        try (BlkSnap blksnap = BlkSnap.open(); Filter f = Filter.open(device)) {
            f.attach();
            SnapshotId id = blksnap.createSnapshot(DiffStorage.directory(storageDir), 1L << 16);
            try {
                f.snapshotAdd(id);
                blksnap.take(id);
                Evidence.add(Tally.SNAPSHOTS_TAKEN, 1);
                Path image = f.snapshotInfo().imagePath()
                        .orElseThrow(() -> new AssertionError(device + ": no image after take"));
                write(device, after);
                assertSame(image, before, read(image, BYTES));
                assertSame(device, after, read(device, BYTES));
            } finally {
                blksnap.destroy(id);
                f.detach();
            }
        }
    }

    /** Asserts equal content; a mismatch names the device, 4 KiB block and both bytes. */
    static void assertSame(Object device, byte[] expected, byte[] found) {
        int at = Arrays.mismatch(expected, found);
        Evidence.add(Tally.BYTES_COMPARED, expected.length);
        if (at >= 0) {
            Evidence.add(Tally.MISMATCHES, 1);
            assertEquals(-1, at, String.format("%s: block %d (4 KiB) differs at byte %d: expected 0x%02x, found 0x%02x",
                    device, at / 4096, at, expected[at], at < found.length ? found[at] : 0));
        }
    }

    static void write(Path device, byte[] data) throws IOException {
        try (FileChannel c = FileChannel.open(device, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(data);
            while (b.hasRemaining()) {
                c.write(b, b.position());
            }
            c.force(true);
        }
    }

    static byte[] read(Path device, int bytes) throws IOException {
        try (FileChannel c = FileChannel.open(device, StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.allocate(bytes);
            while (b.hasRemaining() && c.read(b, b.position()) > 0) {
                // read until full or end of device
            }
            return Arrays.copyOf(b.array(), b.position());
        }
    }
}
