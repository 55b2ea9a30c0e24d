package org.blksnap.itest.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;

import org.junit.jupiter.api.Test;

class StampTest {
    private static final Stamp S = new Stamp(0x1234_5678_9abcL, 77 * 4096L, 42, 3);

    private static ByteBuffer encoded(Stamp s) {
        ByteBuffer b = ByteBuffer.allocate(Stamp.BLOCK);
        s.encode(b);
        assertEquals(Stamp.BLOCK, b.position());
        return b.flip();
    }

    @Test
    void decodesWhatWasEncoded() {
        assertEquals(new Stamp.Stamped(S), Stamp.decode(encoded(S)));
    }

    @Test
    void zeroesAreZeroes() {
        assertInstanceOf(Stamp.Zeroes.class, Stamp.decode(ByteBuffer.allocate(Stamp.BLOCK)));
    }

    @Test
    void aBlockOfTwoWritesIsTorn() {
        ByteBuffer a = encoded(S);
        ByteBuffer b = encoded(new Stamp(S.tag(), S.offset(), 43, 3));
        a.put(2048, b, 2048, 2048);
        Stamp.Content c = Stamp.decode(a);
        assertInstanceOf(Stamp.Garbage.class, c);
        assertTrue(c.describe().contains("checksum") && c.describe().contains("seq 42"), c.describe());
    }

    @Test
    void everySingleBitFlipIsCaught() {
        ByteBuffer good = encoded(S);
        for (int bit = 0; bit < Stamp.BLOCK * 8; bit += 61) {
            ByteBuffer b = ByteBuffer.allocate(Stamp.BLOCK).put(0, good, 0, Stamp.BLOCK);
            b.put(bit / 8, (byte) (b.get(bit / 8) ^ (1 << (bit % 8))));
            assertInstanceOf(Stamp.Garbage.class, Stamp.decode(b), "bit " + bit);
        }
    }

    @Test
    void theFillerDependsOnTheStamp() {
        ByteBuffer a = encoded(S);
        ByteBuffer b = encoded(new Stamp(S.tag(), S.offset(), 43, 3));
        assertTrue(a.slice(64, 1024).compareTo(b.slice(64, 1024)) != 0);
    }

    @Test
    void decodingAdvancesOneBlock() {
        ByteBuffer two = ByteBuffer.allocate(2 * Stamp.BLOCK);
        S.encode(two);
        new Stamp(S.tag(), S.offset() + 4096, 42, 3).encode(two);
        two.flip();
        Stamp.decode(two);
        Stamp.Content second = Stamp.decode(two);
        assertEquals(S.offset() + 4096, ((Stamp.Stamped) second).stamp().offset());
        assertEquals(2 * Stamp.BLOCK, two.position());
    }
}
