package org.blksnap.itest.cbt;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

/**
 * Drives random data-changing I/O at a device and keeps the CBT map the
 * module should end up with: every block touched by a changing operation
 * carries the active number, every other block keeps its old value.
 */
final class WriteModel {
    private final Path device;
    private final long capacity;
    private final long blockSize;
    private final byte[] expected;
    private final Random random;
    private final boolean discards;
    private final StringBuilder log = new StringBuilder();

    WriteModel(Path device, long capacity, long blockSize, long seed, boolean discards) {
        this.device = device;
        this.capacity = capacity;
        this.blockSize = blockSize;
        this.expected = new byte[Math.toIntExact(Math.ceilDiv(capacity, blockSize))];
        this.random = new Random(seed);
        this.discards = discards;
        log.append("seed ").append(seed);
    }

    /** The map the module must show after the next take. */
    byte[] expected() {
        return expected.clone();
    }

    String log() {
        return log.toString();
    }

    /** Stamps the blocks of a byte range with {@code number}. */
    void touch(long offset, long length, int number) {
        long first = offset / blockSize;
        long last = (offset + length - 1) / blockSize;
        for (long b = first; b <= last; b++) {
            expected[(int) b] = (byte) number;
        }
    }

    /**
     * Runs {@code count} random operations; changing ones stamp the model
     * with {@code number}.  Some writes are whole sectors at any sector
     * offset, so they cross block boundaries at sector granularity.
     */
    void run(int count, int number) throws IOException {
        for (int i = 0; i < count; i++) {
            int kind = random.nextInt(10);
            if (kind <= 4) {
                int length = BlockIo.DIRECT_ALIGN * (1 + random.nextInt(random.nextBoolean() ? 4 : 128));
                long offset = alignedOffset(length, BlockIo.DIRECT_ALIGN);
                BlockIo.writeDirect(device, offset, length, (byte) i);
                op("write", offset, length, number);
            } else if (kind == 5) {
                long sectors = 1 + random.nextInt(300);
                long offset = alignedOffset(sectors * BlockIo.SECTOR, BlockIo.SECTOR);
                BlockIo.writeSectors(device, offset / BlockIo.SECTOR, sectors);
                op("sectors", offset, sectors * BlockIo.SECTOR, number);
            } else if (kind == 6 && discards) {
                long length = BlockIo.DIRECT_ALIGN * (1L + random.nextInt(256));
                long offset = alignedOffset(length, BlockIo.DIRECT_ALIGN);
                BlockIo.discard(device, offset, length);
                op("discard", offset, length, number);
            } else if (kind == 7) {
                long length = BlockIo.DIRECT_ALIGN * (1L + random.nextInt(64));
                long offset = alignedOffset(length, BlockIo.DIRECT_ALIGN);
                BlockIo.zeroOut(device, offset, length);
                op("zeroout", offset, length, number);
            } else {
                int length = BlockIo.DIRECT_ALIGN * (1 + random.nextInt(32));
                long offset = alignedOffset(length, BlockIo.DIRECT_ALIGN);
                BlockIo.readDirect(device, offset, length);
                log.append("; read ").append(offset).append('+').append(length);
            }
        }
    }

    private void op(String what, long offset, long length, int number) {
        touch(offset, length, number);
        log.append("; ").append(what).append(' ').append(offset).append('+').append(length);
    }

    private long alignedOffset(long length, long align) {
        long slots = (capacity - length) / align;
        return align * (long) (random.nextDouble() * (slots + 1));
    }
}
