package org.blksnap.api;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A 128-bit identifier as the kernel stores it ({@code struct blksnap_uuid}):
 * 16 bytes, held here as two big-endian longs so that the record has value
 * semantics. Printed in the usual 8-4-4-4-12 hex form of the raw bytes.
 *
 * @param high bytes 0..7, big-endian
 * @param low  bytes 8..15, big-endian
 */
public record Uuid(long high, long low) {
    /** Size in bytes. */
    public static final int SIZE = 16;
    private static final HexFormat HEX = HexFormat.of();

    /**
     * @param bytes exactly 16 bytes
     * @return the identifier
     */
    public static Uuid of(byte[] bytes) {
        Objects.requireNonNull(bytes, "bytes");
        if (bytes.length != SIZE) {
            throw new IllegalArgumentException("a uuid has 16 bytes, not " + bytes.length);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        return new Uuid(b.getLong(), b.getLong());
    }

    /**
     * @param segment memory holding at least 16 bytes at {@code offset}
     * @param offset  byte offset
     * @return the identifier read from it
     */
    public static Uuid read(MemorySegment segment, long offset) {
        return of(segment.asSlice(offset, SIZE).toArray(ValueLayout.JAVA_BYTE));
    }

    /**
     * Parses the 8-4-4-4-12 form or 32 plain hex digits.
     *
     * @param text the text
     * @return the identifier
     * @throws IllegalArgumentException with a message naming the bad text
     */
    public static Uuid parse(String text) {
        Objects.requireNonNull(text, "text");
        String hex = text.strip().replace("-", "");
        if (hex.length() != 2 * SIZE) {
            throw new IllegalArgumentException("not a uuid: '" + text + "' (expected 32 hex digits)");
        }
        try {
            return of(HEX.parseHex(hex));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("not a uuid: '" + text + "' (expected 32 hex digits)", e);
        }
    }

    /** @return a random identifier, for tests and user-space bookkeeping */
    public static Uuid random() {
        byte[] b = new byte[SIZE];
        new SecureRandom().nextBytes(b);
        return of(b);
    }

    /** @return the 16 raw bytes */
    public byte[] bytes() {
        return ByteBuffer.allocate(SIZE).putLong(high).putLong(low).array();
    }

    /**
     * Writes the 16 raw bytes.
     *
     * @param segment destination
     * @param offset  byte offset
     */
    public void write(MemorySegment segment, long offset) {
        MemorySegment.copy(bytes(), 0, segment, ValueLayout.JAVA_BYTE, offset, SIZE);
    }

    /** @return true for the all-zero identifier */
    public boolean isNil() {
        return high == 0 && low == 0;
    }

    @Override
    public String toString() {
        String h = HEX.formatHex(bytes());
        return h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-"
                + h.substring(16, 20) + "-" + h.substring(20);
    }
}
