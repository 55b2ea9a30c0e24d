package org.blksnap.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.blksnap.api.CbtInfo;
import org.blksnap.api.CbtMap;
import org.blksnap.api.Uuid;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Malformed handshakes, bad requests, abrupt disconnects and many clients at
 * once, each answered with the protocol's error code; after every case the
 * server still serves, and at the end no connection, thread or descriptor is
 * left over.
 */
@Timeout(60)
class ProtocolRobustnessTest {
    static final int SIZE = 4 << 20;
    static final int EPERM = 1;
    static final int EIO = 5;
    static final int EINVAL = 22;
    static final int EOVERFLOW = 75;
    static final int REP_ACK = 1;
    static final int REP_SERVER = 2;
    static final int REP_META_CONTEXT = 4;
    static final int ERR_UNSUP = 0x80000001;
    static final int ERR_INVALID = 0x80000003;
    static final int ERR_UNKNOWN = 0x80000006;
    static final int ERR_TOO_BIG = 0x80000009;

    @TempDir
    static Path dir;
    static byte[] data;
    static FileExport disk;
    static NbdServer server;
    static int baselineFds;
    static final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();

    @BeforeAll
    static void start() throws Exception {
        data = new byte[SIZE];
        new Random(7).nextBytes(data);
        Path file = dir.resolve("disk.img");
        Files.write(file, data);
        byte[] stamps = new byte[SIZE / 65536];
        stamps[3] = 1;
        stamps[4] = 1;
        CbtMap cbt = new CbtMap(new CbtInfo(SIZE, 65536, stamps.length, Uuid.random(), 1), stamps);
        disk = FileExport.open(file, SIZE, Optional.of(new ChangedBlocks(cbt)), "");
        Export broken = new Export() {
            @Override
            public long size() {
                return SIZE;
            }

            @Override
            public void read(long offset, ByteBuffer dst) throws IOException {
                throw new ExportException(NbdError.EIO, "snapshot storage overflowed");
            }
        };
        Map<String, Export> m = new LinkedHashMap<>();
        m.put("disk", disk);
        m.put("broken", broken);
        server = NbdServer.start(new ListenAddress.Unix(dir.resolve("s.sock")), new Exports(m),
                new ConnectionListener() {
                    @Override
                    public void disconnected(long id, int active, Optional<Throwable> failure) {
                        failure.filter(f -> !(f instanceof IOException)).ifPresent(failures::add);
                    }
                });
        // The JDK opens its I/O pollers for virtual threads on first use and keeps them: count after one client.
        try (RawClient c = client().handshake()) {
            c.go("disk", false);
            readStillWorks(c, false);
        }
        waitFor(() -> server.activeConnections() == 0, "warm-up connection ended");
        baselineFds = openFds();
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        disk.close();
        // The listening socket is gone too.
        waitFor(() -> openFds() <= baselineFds - 1, "descriptors back to " + (baselineFds - 1) + " after close: "
                + fdList());
    }

    /** After every case: the server is alive and answers a plain client; nothing unexpected was thrown. */
    @AfterEach
    void serverStillServes() throws Exception {
        try (RawClient c = client().handshake()) {
            c.go("disk", false);
            c.request(0, 0, 99, 4096, 512);
            assertEquals(0, c.simpleReply(99));
            assertArrayEquals(slice(4096, 512), c.read(512).array());
        }
        assertTrue(failures.isEmpty(), "runtime failures in connections: " + failures);
    }

    static RawClient client() throws IOException {
        return new RawClient(server.address().socketAddress());
    }

    static byte[] slice(int off, int len) {
        byte[] b = new byte[len];
        System.arraycopy(data, off, b, 0, len);
        return b;
    }

    interface Case {
        void run(RawClient c) throws Exception;
    }

    static Arguments handshakeCase(String name, Case c) {
        return Arguments.of(name, c);
    }

    static Stream<Arguments> handshakes() {
        return Stream.of(
                handshakeCase("unknown client flags: dropped", c -> {
                    c.greeting().write(ByteBuffer.allocate(4).putInt(0xff).flip());
                    assertTrue(c.closedByServer());
                }),
                handshakeCase("client without fixed newstyle: dropped", c -> {
                    c.greeting().write(ByteBuffer.allocate(4).putInt(0).flip());
                    assertTrue(c.closedByServer());
                }),
                handshakeCase("client flags cut short, then gone", c -> {
                    c.greeting().write(new byte[] {0, 0});
                }),
                handshakeCase("gone before the greeting is read", c -> {
                }),
                handshakeCase("bad option magic: dropped", c -> {
                    c.handshake().write(ByteBuffer.allocate(16).putLong(0x1122334455667788L).putInt(7).putInt(0)
                            .flip());
                    assertTrue(c.closedByServer());
                }),
                handshakeCase("option of 1 GiB: NBD_REP_ERR_TOO_BIG, dropped", c -> {
                    c.handshake().write(ByteBuffer.allocate(16).putLong(RawClient.IHAVEOPT).putInt(7)
                            .putInt(1 << 30).flip());
                    assertEquals(ERR_TOO_BIG, c.optionReply().type());
                    assertTrue(c.closedByServer());
                }),
                handshakeCase("option header cut short", c -> {
                    c.handshake().write(ByteBuffer.allocate(10).putLong(RawClient.IHAVEOPT).flip());
                }),
                handshakeCase("option data cut short", c -> {
                    c.handshake().write(ByteBuffer.allocate(20).putLong(RawClient.IHAVEOPT).putInt(7).putInt(100)
                            .flip());
                }),
                handshakeCase("unknown option: NBD_REP_ERR_UNSUP, then usable", c -> {
                    c.handshake().option(99, new byte[] {1, 2, 3});
                    assertEquals(ERR_UNSUP, c.optionReply().type());
                    c.go("disk", true);
                }),
                handshakeCase("STARTTLS on a server without TLS: NBD_REP_ERR_UNSUP", c -> {
                    c.handshake().option(5, new byte[0]);
                    assertEquals(ERR_UNSUP, c.optionReply().type());
                }),
                handshakeCase("GO with a name longer than the data: NBD_REP_ERR_INVALID", c -> {
                    c.handshake().option(7, ByteBuffer.allocate(6).putInt(1000).putShort((short) 0).array());
                    assertEquals(ERR_INVALID, c.optionReply().type());
                    c.go("disk", false);
                }),
                handshakeCase("GO whose info count does not match: NBD_REP_ERR_INVALID", c -> {
                    c.handshake().option(7, ByteBuffer.allocate(10).putInt(4).put("disk".getBytes())
                            .putShort((short) 5).array());
                    assertEquals(ERR_INVALID, c.optionReply().type());
                }),
                handshakeCase("GO with a name that is not UTF-8: NBD_REP_ERR_INVALID", c -> {
                    c.handshake().option(7, ByteBuffer.allocate(8).putInt(2).put((byte) 0xc3).put((byte) 0x28)
                            .putShort((short) 0).array());
                    assertEquals(ERR_INVALID, c.optionReply().type());
                }),
                handshakeCase("GO of an unknown export: NBD_REP_ERR_UNKNOWN", c -> {
                    c.handshake().option(7, RawClient.goData("nosuch"));
                    assertEquals(ERR_UNKNOWN, c.optionReply().type());
                    c.go("disk", false);
                }),
                handshakeCase("INFO then GO", c -> {
                    c.handshake().option(6, RawClient.goData("disk"));
                    RawClient.OptionReply r = c.optionReply();
                    assertEquals(3, r.type());
                    ByteBuffer info = ByteBuffer.wrap(r.data());
                    assertEquals(0, info.getShort());
                    assertEquals(SIZE, info.getLong());
                    assertEquals(0x107, info.getShort(), "HAS_FLAGS|READ_ONLY|SEND_FLUSH|CAN_MULTI_CONN");
                    while (r.type() != REP_ACK) {
                        r = c.optionReply();
                    }
                    c.go("disk", false);
                }),
                handshakeCase("LIST with data: NBD_REP_ERR_INVALID; LIST: both exports", c -> {
                    c.handshake().option(3, new byte[] {1});
                    assertEquals(ERR_INVALID, c.optionReply().type());
                    c.option(3, new byte[0]);
                    List<String> names = new ArrayList<>();
                    RawClient.OptionReply r;
                    while ((r = c.optionReply()).type() == REP_SERVER) {
                        ByteBuffer b = ByteBuffer.wrap(r.data());
                        byte[] n = new byte[b.getInt()];
                        b.get(n);
                        names.add(new String(n, StandardCharsets.UTF_8));
                    }
                    assertEquals(REP_ACK, r.type());
                    assertEquals(List.of("disk", "broken"), names);
                }),
                handshakeCase("STRUCTURED_REPLY with data: NBD_REP_ERR_INVALID", c -> {
                    c.handshake().option(8, new byte[] {0});
                    assertEquals(ERR_INVALID, c.optionReply().type());
                }),
                handshakeCase("SET_META_CONTEXT before structured replies: NBD_REP_ERR_INVALID", c -> {
                    c.handshake().option(10, RawClient.metaContextData("disk", "base:allocation"));
                    assertEquals(ERR_INVALID, c.optionReply().type());
                }),
                handshakeCase("SET_META_CONTEXT: unknown names skipped, known get ids", c -> {
                    c.handshake().option(8, new byte[0]);
                    assertEquals(REP_ACK, c.optionReply().type());
                    c.option(10, RawClient.metaContextData("disk", "nosuch:thing", "blksnap:changed:256",
                            "blksnap:changed:007", "blksnap:changed:0", "base:allocation"));
                    List<String> got = new ArrayList<>();
                    RawClient.OptionReply r;
                    while ((r = c.optionReply()).type() == REP_META_CONTEXT) {
                        got.add(new String(r.data(), 4, r.data().length - 4, StandardCharsets.UTF_8));
                    }
                    assertEquals(REP_ACK, r.type());
                    assertEquals(List.of("blksnap:changed:0", "base:allocation"), got);
                }),
                handshakeCase("LIST_META_CONTEXT by namespace", c -> {
                    c.handshake().option(9, RawClient.metaContextData("disk", "blksnap:"));
                    List<String> got = new ArrayList<>();
                    RawClient.OptionReply r;
                    while ((r = c.optionReply()).type() == REP_META_CONTEXT) {
                        got.add(new String(r.data(), 4, r.data().length - 4, StandardCharsets.UTF_8));
                    }
                    assertEquals(List.of("blksnap:changed:0", "blksnap:changed:1"), got);
                }),
                handshakeCase("META_CONTEXT with a query count past the data: NBD_REP_ERR_INVALID", c -> {
                    c.handshake().option(9, ByteBuffer.allocate(12).putInt(4).put("disk".getBytes()).putInt(1 << 20)
                            .array());
                    assertEquals(ERR_INVALID, c.optionReply().type());
                }),
                handshakeCase("EXPORT_NAME of an unknown export: dropped", c -> {
                    c.handshake().option(1, "nosuch".getBytes());
                    assertTrue(c.closedByServer());
                }),
                handshakeCase("EXPORT_NAME: size, flags, no zeroes", c -> {
                    c.handshake().option(1, "disk".getBytes());
                    ByteBuffer b = c.read(10);
                    assertEquals(SIZE, b.getLong());
                    assertEquals(0x107, b.getShort());
                    c.request(0, 0, 1, 0, 8);
                    assertEquals(0, c.simpleReply(1));
                    assertArrayEquals(slice(0, 8), c.read(8).array());
                }),
                handshakeCase("EXPORT_NAME to a client that wants zeroes: 124 of them", c -> {
                    c.greeting().write(ByteBuffer.allocate(4).putInt(1).flip());
                    c.option(1, "disk".getBytes());
                    ByteBuffer b = c.read(134);
                    assertEquals(SIZE, b.getLong());
                    b.getShort();
                    while (b.hasRemaining()) {
                        assertEquals(0, b.get());
                    }
                }),
                handshakeCase("ABORT: ACK, then closed", c -> {
                    c.handshake().option(2, new byte[0]);
                    assertEquals(REP_ACK, c.optionReply().type());
                    assertTrue(c.closedByServer());
                }));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("handshakes")
    void handshake(String name, Case c) throws Exception {
        try (RawClient client = client()) {
            c.run(client);
        }
    }

    /** A request and the error it must get, with simple and with structured replies. */
    record Bad(String name, int flags, int type, long offset, long length, int simpleError, int structuredError) {
    }

    static Stream<Bad> badRequests() {
        return Stream.of(
                new Bad("read past the end", 0, 0, SIZE - 512, 1024, EINVAL, EINVAL),
                new Bad("read starting past the end", 0, 0, SIZE + 4096L, 512, EINVAL, EINVAL),
                new Bad("read at an offset past 2^63", 0, 0, -4096, 512, EINVAL, EINVAL),
                new Bad("read of zero bytes", 0, 0, 0, 0, EINVAL, EINVAL),
                new Bad("read longer than the maximum block size", 0, 0, 0, 64L << 20, EINVAL, EOVERFLOW),
                new Bad("read of 4 GiB - 1", 0, 0, 0, 0xffffffffL, EINVAL, EOVERFLOW),
                new Bad("read with an unknown flag", 1 << 9, 0, 0, 512, EINVAL, EINVAL),
                new Bad("read with FUA, not advertised", 1, 0, 0, 512, EINVAL, EINVAL),
                new Bad("trim", 0, 4, 0, 4096, EPERM, EPERM),
                new Bad("write zeroes", 0, 6, 0, 4096, EPERM, EPERM),
                new Bad("cache, not advertised", 0, 5, 0, 4096, EINVAL, EINVAL),
                new Bad("unknown command 42", 0, 42, 0, 512, EINVAL, EINVAL),
                new Bad("unknown command 65535", 0, 65535, 0, 0, EINVAL, EINVAL),
                new Bad("flush with a flag", 1 << 3, 3, 0, 0, EINVAL, EINVAL),
                new Bad("block status without a context", 0, 7, 0, 512, EINVAL, EINVAL));
    }

    @ParameterizedTest(name = "simple: {0}")
    @MethodSource("badRequests")
    void badRequestSimple(Bad b) throws Exception {
        try (RawClient c = client().handshake()) {
            c.go("disk", false);
            c.request(b.flags(), b.type(), 7, b.offset(), b.length());
            assertEquals(b.simpleError(), c.simpleReply(7), b.name());
            readStillWorks(c, false);
        }
    }

    @ParameterizedTest(name = "structured: {0}")
    @MethodSource("badRequests")
    void badRequestStructured(Bad b) throws Exception {
        try (RawClient c = client().handshake()) {
            c.go("disk", true);
            c.request(b.flags(), b.type(), 7, b.offset(), b.length());
            RawClient.Chunk ch = c.chunk(7);
            assertEquals(0x8001, ch.type(), "NBD_REPLY_TYPE_ERROR");
            assertTrue(ch.done());
            assertEquals(b.structuredError(), ch.error(), b.name());
            int msgLen = ByteBuffer.wrap(ch.payload(), 4, 2).getShort();
            assertEquals(ch.payload().length - 6, msgLen, "message length");
            readStillWorks(c, true);
        }
    }

    static void readStillWorks(RawClient c, boolean structured) throws IOException {
        c.request(0, 0, 8, 8192, 100);
        if (structured) {
            RawClient.Chunk ch = c.chunk(8);
            assertEquals(1, ch.type());
            assertTrue(ch.done());
            ByteBuffer p = ByteBuffer.wrap(ch.payload());
            assertEquals(8192, p.getLong());
            byte[] got = new byte[100];
            p.get(got);
            assertArrayEquals(slice(8192, 100), got);
        } else {
            assertEquals(0, c.simpleReply(8));
            assertArrayEquals(slice(8192, 100), c.read(100).array());
        }
    }

    @Test
    void writeGetsEpermAndItsPayloadIsSkipped() throws Exception {
        try (RawClient c = client().handshake()) {
            c.go("disk", false);
            c.request(0, 1, 3, 0, 100_000);
            c.write(new byte[100_000]);
            assertEquals(EPERM, c.simpleReply(3));
            readStillWorks(c, false);
        }
        assertArrayEquals(data, Files.readAllBytes(disk.path()), "nothing written");
    }

    @Test
    void writeTooLargeToSkipGetsEpermAndTheConnectionEnds() throws Exception {
        try (RawClient c = client().handshake()) {
            c.go("disk", true);
            c.request(0, 1, 3, 0, 1L << 31);
            RawClient.Chunk ch = c.chunk(3);
            assertEquals(EPERM, ch.error());
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void badRequestMagicEndsTheConnection() throws Exception {
        try (RawClient c = client().handshake()) {
            c.go("disk", false);
            c.write(ByteBuffer.allocate(28).putInt(0x12345678).position(28).flip());
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void requestCutShortAndDisconnectMidReply() throws Exception {
        try (RawClient c = client().handshake()) {
            c.go("disk", false);
            c.write(ByteBuffer.allocate(12).putInt(0x25609513).flip());
        }
        try (RawClient c = client().handshake()) {
            c.go("disk", true);
            // 32 MiB asked, connection closed without reading the reply.
            c.request(0, 0, 1, 0, SIZE);
            c.read(100);
        }
    }

    @Test
    void brokenExportAnswersEio() throws Exception {
        try (RawClient c = client().handshake()) {
            c.go("broken", true);
            c.request(0, 0, 5, 0, 4096);
            RawClient.Chunk ch = c.chunk(5);
            assertEquals(EIO, ch.error());
            String msg = new String(ch.payload(), 6, ch.payload().length - 6, StandardCharsets.UTF_8);
            assertEquals("snapshot storage overflowed", msg);
        }
        try (RawClient c = client().handshake()) {
            c.go("broken", false);
            c.request(0, 0, 5, 0, 4096);
            assertEquals(EIO, c.simpleReply(5));
        }
    }

    @Test
    void largeReadComesInChunksOrWholeWithDf() throws Exception {
        try (RawClient c = client().handshake()) {
            c.go("disk", true);
            c.request(0, 0, 11, 0, 3 * 1048576 + 17);
            ByteBuffer got = ByteBuffer.allocate(3 * 1048576 + 17);
            RawClient.Chunk ch;
            do {
                ch = c.chunk(11);
                assertEquals(1, ch.type());
                ByteBuffer p = ByteBuffer.wrap(ch.payload());
                got.position((int) p.getLong());
                got.put(p);
            } while (!ch.done());
            assertArrayEquals(slice(0, got.capacity()), got.array());
            c.request(1 << 2, 0, 12, 100, 2 * 1048576);
            ch = c.chunk(12);
            assertTrue(ch.done());
            assertEquals(8 + 2 * 1048576, ch.payload().length, "NBD_CMD_FLAG_DF: one chunk");
        }
    }

    @Test
    void blockStatusOfTwoContextsAndReqOne() throws Exception {
        try (RawClient c = client().handshake()) {
            c.go("disk", true, "base:allocation", "blksnap:changed:0");
            c.request(0, 7, 21, 0, SIZE);
            RawClient.Chunk a = c.chunk(21);
            RawClient.Chunk b = c.chunk(21);
            assertTrue(!a.done() && b.done(), "DONE on the last chunk only");
            ByteBuffer pa = ByteBuffer.wrap(a.payload());
            assertEquals(1, pa.getInt());
            assertEquals(SIZE, pa.getInt());
            assertEquals(0, pa.getInt());
            ByteBuffer pb = ByteBuffer.wrap(b.payload());
            assertEquals(2, pb.getInt());
            int[] expected = {3 * 65536, 0, 2 * 65536, 1, SIZE - 5 * 65536, 0};
            for (int v : expected) {
                assertEquals(v, pb.getInt());
            }
            assertTrue(!pb.hasRemaining());
            c.request(1 << 3, 7, 22, 65536, SIZE - 65536);
            a = c.chunk(22);
            b = c.chunk(22);
            pb = ByteBuffer.wrap(b.payload());
            assertEquals(12, b.payload().length, "NBD_CMD_FLAG_REQ_ONE: one descriptor");
            assertEquals(2, pb.getInt());
            assertEquals(2 * 65536, pb.getInt());
            c.request(0, 7, 23, SIZE - 512, 1024);
            assertEquals(EINVAL, c.chunk(23).error(), "block status past the end");
            c.request(0, 3, 24, 0, 0);
            RawClient.Chunk f = c.chunk(24);
            assertEquals(0, f.type(), "flush: NBD_REPLY_TYPE_NONE");
            assertTrue(f.done());
            c.request(0, 2, 25, 0, 0);
            assertTrue(c.closedByServer(), "NBD_CMD_DISC closes");
        }
    }

    @Test
    void sixtyFourConcurrentClients() throws Exception {
        int clients = 64;
        CountDownLatch start = new CountDownLatch(1);
        AtomicInteger ok = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            int n = i;
            threads.add(Thread.ofVirtual().start(() -> {
                Random r = new Random(n);
                try (RawClient c = client().handshake()) {
                    start.await();
                    c.go("disk", n % 2 == 0, n % 2 == 0 ? new String[] {"blksnap:changed:0"} : new String[0]);
                    for (int k = 0; k < 20; k++) {
                        int len = 1 + r.nextInt(256 * 1024);
                        int off = r.nextInt(SIZE - len);
                        c.request(0, 0, k, off, len);
                        byte[] got = new byte[len];
                        if (n % 2 == 0) {
                            ByteBuffer buf = ByteBuffer.wrap(got);
                            RawClient.Chunk ch;
                            do {
                                ch = c.chunk(k);
                                ByteBuffer p = ByteBuffer.wrap(ch.payload());
                                buf.position((int) (p.getLong() - off));
                                buf.put(p);
                            } while (!ch.done());
                        } else {
                            assertEquals(0, c.simpleReply(k));
                            c.read(len).get(got);
                        }
                        assertArrayEquals(slice(off, len), got);
                    }
                    if (n % 4 == 1) {
                        c.request(0, 2, 0, 0, 0);
                    } else if (n % 4 == 3) {
                        c.request(0, 0, 77, 0, SIZE); // gone without reading the reply
                    }
                    ok.incrementAndGet();
                } catch (Throwable t) {
                    errors.add(t);
                }
            }));
        }
        start.countDown();
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(60));
        }
        if (!errors.isEmpty()) {
            fail("client failures: " + errors);
        }
        assertEquals(clients, ok.get());
        waitFor(() -> server.activeConnections() == 0, "every connection ended, " + server.activeConnections()
                + " left");
        waitFor(() -> openFds() <= baselineFds, "descriptors back to " + baselineFds + ": " + fdList());
    }

    static int openFds() {
        String[] fds = Path.of("/proc/self/fd").toFile().list();
        return fds == null ? -1 : fds.length;
    }

    static List<String> fdList() throws IOException {
        List<String> out = new ArrayList<>();
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : s.toList()) {
                try {
                    out.add(p.getFileName() + "->" + Files.readSymbolicLink(p));
                } catch (IOException e) {
                    // closed meanwhile
                }
            }
        }
        return out;
    }

    interface Condition {
        boolean holds() throws Exception;
    }

    static void waitFor(Condition c, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!c.holds()) {
            if (System.nanoTime() > deadline) {
                fail(what);
            }
            Thread.sleep(20);
        }
    }
}
