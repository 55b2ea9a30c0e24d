package org.blksnap.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Several requests in flight on one connection: a slow read does not hold
 * back the replies of later ones, at most {@link Transmission#IN_FLIGHT} are
 * served at once, FLUSH and DISC wait for what came before, and replies that
 * finish in any order still parse as whole replies.
 */
@Timeout(60)
class ParallelRequestsTest {
    static final int SIZE = 8 << 20;
    /** Reads starting in the first 64 KiB wait for {@link #release}. */
    static final int SLOW = 64 << 10;
    /** Reads starting in [4 MiB, 4 MiB + 64 KiB) fail with EIO. */
    static final int BAD = 4 << 20;
    static final int EIO = 5;

    @TempDir
    static java.nio.file.Path dir;
    static byte[] data;
    static NbdServer server;
    static volatile CountDownLatch release;
    static final AtomicInteger active = new AtomicInteger();
    static final AtomicInteger maxActive = new AtomicInteger();
    static final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();

    @BeforeAll
    static void start() throws IOException {
        data = new byte[SIZE];
        new Random(31).nextBytes(data);
        Export slow = new Export() {
            @Override
            public long size() {
                return SIZE;
            }

            @Override
            public void read(long offset, ByteBuffer dst) throws IOException {
                if (offset >= BAD && offset < BAD + SLOW) {
                    throw new ExportException(NbdError.EIO, "bad region");
                }
                if (offset < SLOW) {
                    int now = active.incrementAndGet();
                    maxActive.accumulateAndGet(now, Math::max);
                    try {
                        // Bounded, so a server that serves in order answers late instead of never.
                        release.await(5, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        throw new IOException("interrupted", e);
                    } finally {
                        active.decrementAndGet();
                    }
                }
                dst.put(data, (int) offset, dst.remaining());
            }
        };
        server = NbdServer.start(new ListenAddress.Unix(dir.resolve("p.sock")), new Exports(Map.of("disk", slow)),
                new ConnectionListener() {
                    @Override
                    public void disconnected(long id, int active, Optional<Throwable> failure) {
                        failure.filter(f -> !(f instanceof IOException)).ifPresent(failures::add);
                    }
                });
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @BeforeEach
    void fresh() {
        release = new CountDownLatch(1);
        maxActive.set(0);
    }

    @AfterEach
    void released() throws Exception {
        release.countDown();
        ProtocolRobustnessTest.waitFor(() -> server.activeConnections() == 0, "connections ended");
        assertTrue(failures.isEmpty(), "runtime failures: " + failures);
    }

    static RawClient client(boolean structured) throws IOException {
        RawClient c = new RawClient(server.address().socketAddress()).handshake();
        c.go("disk", structured);
        return c;
    }

    static byte[] slice(long off, int len) {
        byte[] b = new byte[len];
        System.arraycopy(data, (int) off, b, 0, len);
        return b;
    }

    /**
     * The test that needs parallel serving: on a server that answers in order
     * the first reply is the blocked read's, 5 s later.
     */
    @Test
    void aLaterReadIsAnsweredWhileAnEarlierOneBlocks() throws Exception {
        try (RawClient c = client(false)) {
            c.request(0, 0, 1, 0, 4096);
            c.request(0, 0, 2, 1 << 20, 4096);
            assertEquals(0, c.simpleReply(2), "the second read is answered first");
            assertArrayEquals(slice(1 << 20, 4096), c.read(4096).array());
            assertEquals(1, active.get(), "the first is still being read");
            release.countDown();
            assertEquals(0, c.simpleReply(1));
            assertArrayEquals(slice(0, 4096), c.read(4096).array());
            c.request(0, 2, 3, 0, 0);
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void structuredRepliesOvertakeToo() throws Exception {
        try (RawClient c = client(true)) {
            c.request(0, 0, 1, 100, 1000);
            c.request(0, 0, 2, 2 << 20, 1000);
            RawClient.Chunk ch = c.chunk(2);
            assertTrue(ch.done());
            release.countDown();
            ch = c.chunk(1);
            assertTrue(ch.done());
            ByteBuffer p = ByteBuffer.wrap(ch.payload());
            assertEquals(100, p.getLong());
            byte[] got = new byte[1000];
            p.get(got);
            assertArrayEquals(slice(100, 1000), got);
        }
    }

    @Test
    void atMostEightAtOnceAndAllAnswered() throws Exception {
        int n = 3 * Transmission.IN_FLIGHT / 2;
        try (RawClient c = client(false)) {
            for (int i = 0; i < n; i++) {
                c.request(0, 0, 100 + i, i * 512, 512);
            }
            ProtocolRobustnessTest.waitFor(() -> active.get() == Transmission.IN_FLIGHT,
                    "reads in flight: " + active.get());
            Thread.sleep(200);
            assertEquals(Transmission.IN_FLIGHT, maxActive.get(), "the bound holds");
            release.countDown();
            Set<Long> seen = new HashSet<>();
            for (int i = 0; i < n; i++) {
                ByteBuffer h = c.read(16);
                assertEquals(0x67446698, h.getInt());
                assertEquals(0, h.getInt());
                long cookie = h.getLong();
                assertTrue(seen.add(cookie), "one reply per request");
                int k = (int) (cookie - 100);
                assertArrayEquals(slice(k * 512L, 512), c.read(512).array());
            }
        }
    }

    @Test
    void flushIsAnsweredAfterTheRequestsBeforeIt() throws Exception {
        try (RawClient c = client(false)) {
            c.request(0, 0, 1, 0, 4096);
            c.request(0, 3, 2, 0, 0);
            ProtocolRobustnessTest.waitFor(() -> active.get() == 1, "the read has started");
            Thread.sleep(200);
            release.countDown();
            assertEquals(0, c.simpleReply(1), "the read before the flush is answered first");
            assertArrayEquals(slice(0, 4096), c.read(4096).array());
            assertEquals(0, c.simpleReply(2));
        }
    }

    @Test
    void disconnectWaitsForTheRepliesInFlight() throws Exception {
        try (RawClient c = client(true)) {
            c.request(0, 0, 1, 0, 3 << 20);
            c.request(0, 2, 2, 0, 0);
            ProtocolRobustnessTest.waitFor(() -> active.get() == 1, "the read has started");
            Thread.sleep(200);
            release.countDown();
            ByteBuffer got = ByteBuffer.allocate(3 << 20);
            RawClient.Chunk ch;
            do {
                ch = c.chunk(1);
                ByteBuffer p = ByteBuffer.wrap(ch.payload());
                got.position((int) p.getLong());
                got.put(p);
            } while (!ch.done());
            assertArrayEquals(slice(0, 3 << 20), got.array());
            assertTrue(c.closedByServer(), "closed after the last reply");
        }
    }

    /** Many reads of all sizes, a failing one among them: every reply parses whole and carries its own bytes. */
    @Test
    void repliesInAnyOrderParseWholeAndAnErrorSpoilsNothing() throws Exception {
        release.countDown();
        for (boolean structured : new boolean[] {false, true}) {
            try (RawClient c = client(structured)) {
                Random r = new Random(structured ? 2 : 1);
                Map<Long, long[]> asked = new HashMap<>();
                for (long cookie = 1; cookie <= 40; cookie++) {
                    int len = cookie % 5 == 0 ? (1 << 20) * 2 + r.nextInt(1 << 20) : 1 + r.nextInt(300_000);
                    long off = cookie == 7 ? BAD : SLOW + r.nextInt(BAD - SLOW - (3 << 20));
                    asked.put(cookie, new long[] {off, len});
                    // DF on a third of the structured reads: those come as one chunk, written whole.
                    c.request(structured && cookie % 3 == 0 ? 1 << 2 : 0, 0, cookie, off, len);
                }
                Map<Long, ByteBuffer> got = new HashMap<>();
                Set<Long> finished = new HashSet<>();
                while (finished.size() < asked.size()) {
                    if (structured) {
                        readChunk(c, asked, got, finished);
                    } else {
                        ByteBuffer h = c.read(16);
                        assertEquals(0x67446698, h.getInt(), "simple reply magic");
                        int error = h.getInt();
                        long cookie = h.getLong();
                        assertTrue(finished.add(cookie), "cookie " + cookie + " answered once");
                        if (cookie == 7) {
                            assertEquals(EIO, error);
                            continue;
                        }
                        assertEquals(0, error);
                        got.put(cookie, c.read((int) asked.get(cookie)[1]));
                    }
                }
                for (Map.Entry<Long, long[]> e : asked.entrySet()) {
                    if (e.getKey() != 7) {
                        assertArrayEquals(slice(e.getValue()[0], (int) e.getValue()[1]), got.get(e.getKey()).array(),
                                "bytes of cookie " + e.getKey());
                    }
                }
            }
        }
    }

    private static void readChunk(RawClient c, Map<Long, long[]> asked, Map<Long, ByteBuffer> got,
            Set<Long> finished) throws IOException {
        ByteBuffer h = c.read(20);
        assertEquals(0x668e33ef, h.getInt(), "structured reply magic");
        int flags = Short.toUnsignedInt(h.getShort());
        int type = Short.toUnsignedInt(h.getShort());
        long cookie = h.getLong();
        int len = h.getInt();
        ByteBuffer p = c.read(len);
        long[] a = asked.get(cookie);
        assertTrue(a != null && !finished.contains(cookie), "chunk for a request in flight: " + cookie);
        if (cookie == 7) {
            assertEquals(0x8001, type, "the failing read gets an error chunk");
            assertEquals(EIO, p.getInt());
        } else {
            assertEquals(1, type, "data chunk");
            long off = p.getLong();
            ByteBuffer buf = got.computeIfAbsent(cookie, k -> ByteBuffer.allocate((int) a[1]));
            buf.position((int) (off - a[0]));
            buf.put(p);
        }
        if ((flags & 1) != 0) {
            finished.add(cookie);
        }
    }
}
