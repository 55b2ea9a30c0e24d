package org.blksnap.backup.repo;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A chunk's id: the SHA-256 of its plain data, held as four longs so that
 * millions of them cost 32 bytes each plus an object, not a hex string.
 *
 * @param a bytes 0..7, big-endian
 * @param b bytes 8..15
 * @param c bytes 16..23
 * @param d bytes 24..31
 */
public record ChunkId(long a, long b, long c, long d) {
    /** Bytes of an id. */
    public static final int BYTES = 32;

    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the Java runtime has no SHA-256", e);
        }
    });

    private static final ThreadLocal<byte[]> DIGEST = ThreadLocal.withInitial(() -> new byte[BYTES]);

    /**
     * @param data   buffer
     * @param length bytes of it
     * @return the id of that data (SHA-256 by libcrypto when present, else by the JDK)
     */
    public static ChunkId of(byte[] data, int length) {
        if (NativeSha256.available()) {
            byte[] out = DIGEST.get();
            NativeSha256.digest(data, length, out);
            return read(out, 0);
        }
        return ofJdk(data, length);
    }

    /**
     * @param data   buffer
     * @param length bytes of it
     * @return the id of that data, by the JDK's digest
     */
    static ChunkId ofJdk(byte[] data, int length) {
        MessageDigest md = SHA256.get();
        md.update(data, 0, length);
        return read(md.digest(), 0);
    }

    /**
     * @param raw bytes
     * @param at  where the 32 bytes of an id start
     * @return the id
     */
    public static ChunkId read(byte[] raw, int at) {
        ByteBuffer bb = ByteBuffer.wrap(raw, at, BYTES);
        return new ChunkId(bb.getLong(), bb.getLong(), bb.getLong(), bb.getLong());
    }

    /**
     * @param hex 64 hex digits
     * @return the id
     * @throws IllegalArgumentException if it is not one
     */
    public static ChunkId parse(String hex) {
        if (hex.length() != 2 * BYTES) {
            throw new IllegalArgumentException("not a chunk id: " + hex);
        }
        return read(HexFormat.of().parseHex(hex), 0);
    }

    /**
     * @param raw where to write
     * @param at  offset
     */
    public void write(byte[] raw, int at) {
        ByteBuffer.wrap(raw, at, BYTES).putLong(a).putLong(b).putLong(c).putLong(d);
    }

    /** @return true for the all-zero id, which marks an all-zero chunk in a manifest */
    public boolean isZero() {
        return (a | b | c | d) == 0;
    }

    @Override
    public String toString() {
        byte[] raw = new byte[BYTES];
        write(raw, 0);
        return HexFormat.of().formatHex(raw);
    }
}
