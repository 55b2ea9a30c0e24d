package org.blksnap.itest.verify;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/** Reads an image's stamped region with O_DIRECT and hands every block to the checks. */
public final class ImageReader {
    private static final int CHUNK = 1 << 20;

    private ImageReader() {
    }

    /** Checks every block of the model's region of {@code image}; tallies the evidence once done. */
    public static void check(Path image, ImageCheck check) throws IOException {
        long bytes = check.model().bytes();
        ByteBuffer buf = BlockDevice.buffer(CHUNK);
        try (BlockDevice dev = BlockDevice.open(image)) {
            for (long off = 0; off < bytes; off += CHUNK) {
                buf.clear().limit((int) Math.min(CHUNK, bytes - off));
                dev.read(buf, off);
                buf.flip();
                for (long b = off / Stamp.BLOCK; buf.hasRemaining(); b++) {
                    check.block(b, Stamp.decode(buf));
                }
            }
        }
        Evidence.add(Evidence.Tally.BLOCKS_VERIFIED, bytes / Stamp.BLOCK);
        Evidence.add(Evidence.Tally.BYTES_COMPARED, bytes);
    }
}
