package org.blksnap.backup.repo;

import java.util.Arrays;

import com.github.luben.zstd.Zstd;

/**
 * How a chunk's data is stored in a pack: one zstd frame (sealed with
 * AES-GCM in an encrypted repository). The stored bytes' CRC32C (in the index
 * and the pack's own entries) finds damaged bytes without decompressing or a
 * key; the chunk's id (SHA-256 of the plain data, HMAC-SHA-256 when
 * encrypted) proves the decompressed data with {@code --read-data}.
 */
public final class ChunkCodec {
    private static final byte[] ZEROS = new byte[64 * 1024];

    private ChunkCodec() {
    }

    /**
     * @param data   buffer
     * @param length bytes of it
     * @return true if all bytes are zero
     */
    public static boolean isZero(byte[] data, int length) {
        for (int i = 0; i < length; i += ZEROS.length) {
            int n = Math.min(ZEROS.length, length - i);
            if (Arrays.mismatch(data, i, i + n, ZEROS, 0, n) >= 0) {
                return false;
            }
        }
        return true;
    }

    /**
     * @param plainLength bytes of a chunk
     * @return the largest frame it can compress to
     */
    public static int maxFrame(int plainLength) {
        return (int) Zstd.compressBound(plainLength);
    }

    /**
     * @param data   plain data
     * @param length bytes of it
     * @param level  zstd level
     * @param out    at least {@link #maxFrame} bytes
     * @return bytes of the frame in {@code out}
     */
    public static int compress(byte[] data, int length, int level, byte[] out) {
        long n = Zstd.compressByteArray(out, 0, out.length, data, 0, length, level);
        if (Zstd.isError(n)) {
            throw new IllegalStateException("zstd compression failed: " + Zstd.getErrorName(n));
        }
        return (int) n;
    }

    /**
     * Checks a chunk's stored bytes (the frame, or its sealed blob) against
     * their CRC32C: cheap, and names damage without a key.
     *
     * @param id     the chunk, for messages
     * @param loc    where it was read from
     * @param stored the stored bytes
     * @throws ChunkException if they are damaged
     */
    public static void checkStored(ChunkId id, ChunkIndex.Location loc, byte[] stored) throws ChunkException {
        if (PackFormat.crc(stored, 0, loc.length()) != loc.crc()) {
            throw new ChunkException(id, "chunk " + id + " in pack " + loc.pack() + " at byte " + loc.offset()
                    + " is damaged: its bytes fail their checksum");
        }
    }

    /**
     * Decompresses a checked frame.
     *
     * @param id     the chunk, for messages
     * @param loc    where it was read from
     * @param frame  the zstd frame
     * @param length bytes of it
     * @param dst    at least the plain length
     * @throws ChunkException if the frame is damaged
     */
    public static void decompress(ChunkId id, ChunkIndex.Location loc, byte[] frame, int length, byte[] dst)
            throws ChunkException {
        long n = Zstd.decompressByteArray(dst, 0, loc.plainLength(), frame, 0, length);
        if (Zstd.isError(n) || n != loc.plainLength()) {
            throw new ChunkException(id, "chunk " + id + " in pack " + loc.pack() + " is damaged: it does not "
                    + "decompress");
        }
    }
}
