package org.blksnap.backup.repo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;

class NativeSha256Test {
    @Test
    void idsAreTheJdksSha256() {
        assumeTrue(NativeSha256.available(), "no libcrypto on this host");
        Random r = new Random(17);
        byte[] data = new byte[256 << 10];
        r.nextBytes(data);
        for (int length : new int[] {0, 1, 55, 56, 63, 64, 65, 4096, 100_003, data.length}) {
            assertEquals(ChunkId.ofJdk(data, length), ChunkId.of(data, length), "length " + length);
        }
        // A known vector: SHA-256("abc").
        assertEquals(ChunkId.parse("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
                ChunkId.of("abc".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 3));
    }

    @Test
    void refusesALengthBeyondTheArray() {
        assumeTrue(NativeSha256.available(), "no libcrypto on this host");
        assertThrows(IndexOutOfBoundsException.class, () -> NativeSha256.digest(new byte[16], 17, new byte[32]));
        assertThrows(IndexOutOfBoundsException.class, () -> NativeSha256.digest(new byte[16], 16, new byte[31]));
    }
}
