package org.blksnap.backup.repo;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

import com.github.luben.zstd.Zstd;

/**
 * How a chunk is stored: a 40-byte header, then the zstd frame.
 *
 * <pre>
 * 0  "BSC1"                   magic and format
 * 4  int32 big-endian         plain length
 * 8  32 bytes                 SHA-256 of the zstd frame that follows
 * 40 zstd frame
 * </pre>
 *
 * The chunk's id (its name) is the SHA-256 of the plain data; the header's
 * hash of the compressed frame lets {@code verify} find damaged files
 * without decompressing them.
 */
public final class ChunkCodec {
    /** Bytes before the zstd frame. */
    public static final int HEADER = 40;
    private static final byte[] MAGIC = {'B', 'S', 'C', '1'};

    private ChunkCodec() {
    }

    /**
     * @param data   buffer
     * @param length bytes of it
     * @return the lower-case hex SHA-256
     */
    public static String id(byte[] data, int length) {
        MessageDigest md = sha256();
        md.update(data, 0, length);
        return HexFormat.of().formatHex(md.digest());
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

    private static final byte[] ZEROS = new byte[64 * 1024];

    /** A stored chunk: the buffer and how many of its bytes are used. */
    public record Encoded(byte[] bytes, int length) {
    }

    /**
     * @param data   plain data
     * @param length bytes of it
     * @param level  zstd level
     * @return the file content
     */
    public static Encoded encode(byte[] data, int length, int level) {
        byte[] out = new byte[HEADER + (int) Zstd.compressBound(length)];
        long n = Zstd.compressByteArray(out, HEADER, out.length - HEADER, data, 0, length, level);
        if (Zstd.isError(n)) {
            throw new IllegalStateException("zstd compression failed: " + Zstd.getErrorName(n));
        }
        MessageDigest md = sha256();
        md.update(out, HEADER, (int) n);
        byte[] hash = md.digest();
        ByteBuffer.wrap(out).put(MAGIC).putInt(length).put(hash);
        return new Encoded(out, HEADER + (int) n);
    }

    /**
     * Checks the header and the compressed frame's hash, without
     * decompressing.
     *
     * @param id   the chunk's id, for messages
     * @param file the file content
     * @return the plain length
     * @throws ChunkException if the file is damaged
     */
    public static int check(String id, byte[] file) throws ChunkException {
        if (file.length < HEADER || !Arrays.equals(file, 0, 4, MAGIC, 0, 4)) {
            throw new ChunkException(id, "chunk " + id + " is damaged: not a blksnap chunk file");
        }
        int plain = ByteBuffer.wrap(file, 4, 4).getInt();
        MessageDigest md = sha256();
        md.update(file, HEADER, file.length - HEADER);
        if (plain < 0 || !Arrays.equals(md.digest(), 0, 32, file, 8, HEADER)) {
            throw new ChunkException(id, "chunk " + id + " is damaged: its content does not match its checksum");
        }
        return plain;
    }

    /**
     * Decompresses a chunk and checks the plain data's hash against its id.
     *
     * @param id   the chunk's id
     * @param file the file content
     * @param dst  where the plain data goes (at least the plain length)
     * @return the plain length
     * @throws ChunkException if the file is damaged
     */
    public static int decode(String id, byte[] file, byte[] dst) throws ChunkException {
        int plain = check(id, file);
        if (plain > dst.length) {
            throw new ChunkException(id, "chunk " + id + " is damaged: it claims " + plain + " bytes");
        }
        long n = Zstd.decompressByteArray(dst, 0, plain, file, HEADER, file.length - HEADER);
        if (Zstd.isError(n) || n != plain) {
            throw new ChunkException(id, "chunk " + id + " is damaged: it does not decompress");
        }
        if (!id(dst, plain).equals(id)) {
            throw new ChunkException(id, "chunk " + id + " is damaged: its data does not hash to its id");
        }
        return plain;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the Java runtime has no SHA-256", e);
        }
    }
}
