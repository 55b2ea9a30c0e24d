package org.blksnap.itest.verify.faults;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;

import org.blksnap.itest.verify.Evidence;
import org.blksnap.itest.verify.Evidence.Tally;

import com.sun.nio.file.ExtendedOpenOption;

/**
 * What a device must contain, kept in memory next to it: every write goes
 * to both, with O_DIRECT so no page cache stands between the test and the
 * device. Writers may share one model as long as their ranges do not
 * overlap. {@link #verify} compares the device with the model byte for byte.
 */
final class DeviceModel {
    static final int BLOCK = 4096;
    private static final int PIECE = 1 << 20;

    private final Path device;
    private final byte[] bytes;

    private DeviceModel(Path device, byte[] bytes) {
        this.device = device;
        this.bytes = bytes;
    }

    /** Fills the first {@code size} bytes of the device with seeded random data. */
    static DeviceModel fill(Path device, int size, long seed) throws IOException {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        try (FileChannel c = open(device, StandardOpenOption.WRITE)) {
            ByteBuffer buf = aligned(PIECE);
            for (int at = 0; at < size; at += PIECE) {
                buf.clear();
                buf.put(b, at, Math.min(PIECE, size - at)).flip();
                writeFully(c, buf, at);
            }
        }
        return new DeviceModel(device, b);
    }

    Path device() {
        return device;
    }

    int size() {
        return bytes.length;
    }

    /** A copy of part of the model. */
    byte[] range(int from, int length) {
        return Arrays.copyOfRange(bytes, from, from + length);
    }

    /** A copy of the model as it is now, e.g. the content a snapshot must keep. */
    byte[] copy() {
        return bytes.clone();
    }

    /**
     * Writes random data to the device and the model. The caller's channel
     * must be O_DIRECT ({@link #open}) and its buffer {@link #aligned}.
     */
    void write(FileChannel c, ByteBuffer buf, Random rng, long offset, int length) throws IOException {
        byte[] data = new byte[length];
        rng.nextBytes(data);
        buf.clear();
        buf.put(data).flip();
        writeFully(c, buf, offset);
        System.arraycopy(data, 0, bytes, (int) offset, length);
    }

    /** The device equals the model byte for byte. */
    void verify() throws IOException {
        verify(device, bytes);
    }

    /**
     * Reads the device with O_DIRECT and compares it with what it must hold;
     * a mismatch names the device, the 4 KiB block, and the first 16 bytes
     * of the block as expected and as found.
     */
    static void verify(Path device, byte[] expected) throws IOException {
        ByteBuffer buf = aligned(PIECE);
        byte[] got = new byte[PIECE];
        try (FileChannel c = open(device, StandardOpenOption.READ)) {
            for (int at = 0; at < expected.length; at += PIECE) {
                int n = Math.min(PIECE, expected.length - at);
                buf.clear().limit(n);
                while (buf.hasRemaining()) {
                    if (c.read(buf, at + buf.position()) <= 0) {
                        throw new IOException(device + ": short read at byte " + (at + buf.position()));
                    }
                }
                buf.flip().get(got, 0, n);
                int miss = Arrays.mismatch(expected, at, at + n, got, 0, n);
                Evidence.add(Tally.BYTES_COMPARED, n);
                if (miss >= 0) {
                    Evidence.add(Tally.MISMATCHES, 1);
                    int block = (at + miss) / BLOCK;
                    int from = block * BLOCK - at;
                    throw new AssertionError(String.format("%s: block %d (4 KiB) differs: expected %s..., found %s...",
                            device, block, hex(expected, at + from), hex(got, from)));
                }
            }
        }
    }

    private static String hex(byte[] b, int from) {
        return HexFormat.of().formatHex(b, Math.max(0, from), Math.max(0, from) + 16);
    }

    static FileChannel open(Path device, StandardOpenOption mode) throws IOException {
        return FileChannel.open(device, mode, ExtendedOpenOption.DIRECT);
    }

    static ByteBuffer aligned(int size) {
        return ByteBuffer.allocateDirect(size + BLOCK).alignedSlice(BLOCK).limit(size);
    }

    private static void writeFully(FileChannel c, ByteBuffer buf, long offset) throws IOException {
        long at = offset;
        while (buf.hasRemaining()) {
            at += c.write(buf, at);
        }
    }
}
