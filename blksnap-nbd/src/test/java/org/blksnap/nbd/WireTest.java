package org.blksnap.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.GatheringByteChannel;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * A reply's header and data leave in one gathering write when the socket
 * takes them, and in order whatever the socket takes per call.
 */
class WireTest {
    /** A channel that takes at most {@code perCall} bytes a call and counts the calls. */
    private static final class Socket implements ByteChannel, GatheringByteChannel {
        final ByteArrayOutputStream taken = new ByteArrayOutputStream();
        final List<Integer> calls = new ArrayList<>();
        final int perCall;

        Socket(int perCall) {
            this.perCall = perCall;
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) {
            int budget = perCall;
            long n = 0;
            for (int i = offset; i < offset + length && budget > 0; i++) {
                while (srcs[i].hasRemaining() && budget > 0) {
                    taken.write(srcs[i].get());
                    budget--;
                    n++;
                }
            }
            calls.add((int) n);
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs) {
            return write(srcs, 0, srcs.length);
        }

        @Override
        public int write(ByteBuffer src) {
            return (int) write(new ByteBuffer[] {src}, 0, 1);
        }

        @Override
        public int read(ByteBuffer dst) {
            return -1;
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    private static ByteBuffer bytes(int from, int n) {
        ByteBuffer b = ByteBuffer.allocate(n);
        for (int i = 0; i < n; i++) {
            b.put((byte) (from + i));
        }
        return b.flip();
    }

    private static byte[] expected() {
        byte[] e = new byte[28 + 1000];
        for (int i = 0; i < 28; i++) {
            e[i] = (byte) (100 + i);
        }
        for (int i = 0; i < 1000; i++) {
            e[28 + i] = (byte) i;
        }
        return e;
    }

    @Test
    void headerAndDataGoInOneWrite() throws Exception {
        Socket s = new Socket(Integer.MAX_VALUE);
        new Wire(s).write(bytes(100, 28), ByteBuffer.allocate(0), bytes(0, 1000));
        assertEquals(List.of(1028), s.calls);
        assertArrayEquals(expected(), s.taken.toByteArray());
    }

    @Test
    void partialWritesKeepTheOrder() throws Exception {
        Socket s = new Socket(7);
        new Wire(s).write(bytes(100, 28), bytes(0, 1000));
        assertArrayEquals(expected(), s.taken.toByteArray());
        assertEquals((1028 + 6) / 7, s.calls.size());
    }
}
