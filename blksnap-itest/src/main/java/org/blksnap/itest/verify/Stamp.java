package org.blksnap.itest.verify;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The identity written into every 4 KiB block of the verification workload:
 * which device it belongs to ({@code tag}), the byte offset it was written
 * at, the write's sequence number and writer. The rest of the block is
 * filler derived from these, and a CRC32C over everything seals it, so a
 * block made of sectors of two writes (torn), stale data of another run or
 * device (foreign) or any bit flip cannot pass for a valid stamp.
 *
 * @param tag    random per device and run, so nothing foreign matches
 * @param offset byte offset of the block on its device
 * @param seq    write sequence number, unique per write, increasing
 * @param writer writer thread id
 */
public record Stamp(long tag, long offset, long seq, int writer) {
    public static final int BLOCK = 4096;
    private static final long MAGIC = 0x424c4b534e415056L; // "BLKSNAPV"
    private static final int CRC_AT = BLOCK - 8;

    /** What a block read back holds. */
    public sealed interface Content {
        /** Describes the content for a failure message. */
        String describe();
    }

    /** A whole, valid stamp. */
    public record Stamped(Stamp stamp) implements Content {
        @Override
        public String describe() {
            return stamp.toString();
        }
    }

    /** All zeroes, as a discarded or never-written block may read. */
    public record Zeroes() implements Content {
        @Override
        public String describe() {
            return "zeroes";
        }
    }

    /** Neither: torn, corrupt or never a stamp. */
    public record Garbage(String why) implements Content {
        @Override
        public String describe() {
            return "garbage (" + why + ")";
        }
    }

    /** Writes this stamp into the next {@link #BLOCK} bytes of {@code buf} (position advances). */
    public void encode(ByteBuffer buf) {
        ByteBuffer b = buf.slice(buf.position(), BLOCK).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(MAGIC).putLong(tag).putLong(offset).putLong(seq).putInt(writer);
        long x = tag ^ offset * 0x9e3779b97f4a7c15L ^ seq;
        while (b.position() < CRC_AT) {
            x = mix(x);
            if (b.remaining() - 8 >= 8) {
                b.putLong(x);
            } else {
                b.putInt((int) x);
            }
        }
        CRC32C crc = new CRC32C();
        crc.update(b.duplicate().position(0).limit(CRC_AT));
        b.putLong(crc.getValue());
        buf.position(buf.position() + BLOCK);
    }

    /** Reads the block at {@code buf}'s position (position advances by {@link #BLOCK}). */
    public static Content decode(ByteBuffer buf) {
        ByteBuffer b = buf.slice(buf.position(), BLOCK).order(ByteOrder.LITTLE_ENDIAN);
        buf.position(buf.position() + BLOCK);
        if (b.getLong(0) != MAGIC) {
            return isZero(b) ? new Zeroes() : new Garbage("no stamp header");
        }
        CRC32C crc = new CRC32C();
        crc.update(b.duplicate().position(0).limit(CRC_AT));
        Stamp s = new Stamp(b.getLong(8), b.getLong(16), b.getLong(24), b.getInt(32));
        if (crc.getValue() != b.getLong(CRC_AT)) {
            return new Garbage("checksum mismatch, torn or corrupt; header says " + s);
        }
        return new Stamped(s);
    }

    private static boolean isZero(ByteBuffer b) {
        for (int i = 0; i < BLOCK; i += 8) {
            if (b.getLong(i) != 0) {
                return false;
            }
        }
        return true;
    }

    /** splitmix64's finaliser: cheap, and every bit depends on every input bit. */
    private static long mix(long z) {
        z += 0x9e3779b97f4a7c15L;
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    @Override
    public String toString() {
        return String.format("stamp{seq %d, writer %d, offset %d, tag %08x}", seq, writer, offset, tag);
    }
}
