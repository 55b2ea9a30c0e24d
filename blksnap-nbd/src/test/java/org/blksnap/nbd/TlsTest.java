package org.blksnap.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * NBD_OPT_STARTTLS with TLS required: libnbd's nbdinfo and nbdcopy and QEMU's
 * qemu-img verify the server against a CA made by openssl and read the
 * export; plaintext clients are refused the protocol's way; a connection
 * that is not TLS after the ACK is dropped and the others go on.
 */
@Timeout(120)
class TlsTest {
    static final int SIZE = 6 << 20;
    static final int ERR_INVALID = 0x80000003;
    static final int ERR_TLS_REQD = 0x80000005;

    @TempDir
    static Path dir;
    static byte[] data;
    static Path image;
    static FileExport export;
    static TestCertificates certs;
    static NbdServer server;
    static final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();

    @BeforeAll
    static void start() throws Exception {
        data = new byte[SIZE];
        new Random(23).nextBytes(data);
        image = dir.resolve("disk.img");
        Files.write(image, data);
        export = FileExport.open(image);
        certs = TestCertificates.make(dir.resolve("pki"), "blksnap test CA");
        server = NbdServer.start(new ListenAddress.Unix(dir.resolve("tls.sock")), new Exports(Map.of("disk", export)),
                new ConnectionListener() {
                    @Override
                    public void disconnected(long id, int active, Optional<Throwable> failure) {
                        failure.filter(f -> !(f instanceof IOException)).ifPresent(failures::add);
                    }
                }, Optional.of(TlsCredentials.load(certs.server())));
    }

    @AfterAll
    static void stop() throws IOException {
        server.close();
        export.close();
    }

    /** After every case a TLS client still reads the export, and no connection threw anything but I/O errors. */
    @AfterEach
    void stillServes() throws Exception {
        try (RawClient c = client().handshake().startTls(certs.clientContext())) {
            c.go("disk", false);
            c.request(0, 0, 1, 4096, 1000);
            assertEquals(0, c.simpleReply(1));
            assertArrayEquals(slice(4096, 1000), c.read(1000).array());
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

    /**
     * The nbds+unix URI with a client directory. libnbd verifies the
     * certificate of TCP servers only, unless a program calls
     * nbd_set_tls_verify_peer; libnbd 1.14's URIs have no parameter for it
     * (only tls-certificates and tls-psk-file), so nbdinfo and nbdcopy on a
     * Unix socket encrypt without checking the server. The checks are over
     * TCP below, and qemu-img checks on the Unix socket with tls-hostname.
     */
    static String uri(Path client) {
        return server.uri("disk") + "&tls-certificates=" + client;
    }

    static NbdServer tcpServer() throws IOException {
        return NbdServer.start(new ListenAddress.Tcp("127.0.0.1", 0), new Exports(Map.of("disk", export)),
                new ConnectionListener() {
                }, Optional.of(TlsCredentials.load(certs.server())));
    }

    @Test
    void uriSaysTls() {
        assertEquals("nbds+unix:///disk?socket=" + dir.resolve("tls.sock").toAbsolutePath(), server.uri("disk"));
        assertTrue(server.tlsRequired());
    }

    @Test
    void nbdinfoVerifiesTheServerAndReadsTheSize() throws Exception {
        String out = Tool.ok("nbdinfo", "--json", uri(certs.client()));
        assertTrue(out.contains("\"export-size\": " + SIZE), out);
        assertTrue(out.contains("\"protocol\": \"newstyle-fixed\""), out);
        assertTrue(out.contains("\"TLS\": true"), out);
    }

    @Test
    void nbdcopyOverTlsGivesTheExactBytes() throws Exception {
        Path out = dir.resolve("copy.img");
        Tool.ok("nbdcopy", uri(certs.client()), out.toString());
        assertEquals(-1, Files.mismatch(image, out));
        Files.delete(out);
    }

    @Test
    void aServerCertificateFromAnotherCaIsRejectedByTheClient() throws Exception {
        TestCertificates other = TestCertificates.make(dir.resolve("other-pki"), "some other CA");
        try (NbdServer tcp = tcpServer()) {
            Tool.Result r = Tool.run("nbdinfo", tcp.uri("disk") + "?tls-certificates=" + other.client());
            assertNotEquals(0, r.exit(), r.out());
            assertTrue(r.err().toLowerCase(java.util.Locale.ROOT).contains("certificate"), r.err());
        }
    }

    @Test
    void nbdcopyOverTcpVerifiesByDefaultAndGivesTheExactBytes() throws Exception {
        try (NbdServer tcp = tcpServer()) {
            String uri = tcp.uri("disk") + "?tls-certificates=" + certs.client();
            assertTrue(uri.startsWith("nbds://127.0.0.1:"), uri);
            String out = Tool.ok("nbdinfo", "--json", uri);
            assertTrue(out.contains("\"export-size\": " + SIZE), out);
            Path copy = dir.resolve("tcp-copy.img");
            Tool.ok("nbdcopy", uri, copy.toString());
            assertEquals(-1, Files.mismatch(image, copy));
            Files.delete(copy);
        }
    }

    @Test
    void qemuImgVerifiesOnTheUnixSocketAndConverts() throws Exception {
        Path out = dir.resolve("convert.img");
        Tool.ok("qemu-img", "convert", "--object",
                "tls-creds-x509,id=tls0,endpoint=client,dir=" + certs.client(), "--image-opts",
                "driver=nbd,path=" + dir.resolve("tls.sock") + ",export=disk,tls-creds=tls0,tls-hostname=localhost",
                "-O", "raw",
                out.toString());
        assertEquals(-1, Files.mismatch(image, out));
        Files.delete(out);
    }

    @Test
    void qemuImgRejectsAServerItCannotVerify() throws Exception {
        TestCertificates other = TestCertificates.make(dir.resolve("qemu-other-pki"), "not the server's CA");
        Tool.Result r = Tool.run("qemu-img", "info", "--object",
                "tls-creds-x509,id=tls0,endpoint=client,dir=" + other.client(), "--image-opts",
                "driver=nbd,path=" + dir.resolve("tls.sock") + ",export=disk,tls-creds=tls0,tls-hostname=localhost");
        assertNotEquals(0, r.exit(), r.out());
        assertTrue(r.err().toLowerCase(java.util.Locale.ROOT).contains("certificate"), r.err());
    }

    @Test
    void plaintextNbdinfoIsRefused() throws Exception {
        String plain = "nbd+unix:///disk?socket=" + dir.resolve("tls.sock");
        Tool.Result r = Tool.run("nbdinfo", plain);
        assertNotEquals(0, r.exit(), r.out());
        // libnbd 1.14 reports NBD_REP_ERR_TLS_REQD to GO as ENOTSUP, without the server's message.
        assertTrue(r.err().contains("opt_go") && r.err().contains("not supported"), r.err());
    }

    @Test
    void optionsBeforeStartTlsGetTlsRequired() throws Exception {
        try (RawClient c = client().handshake()) {
            c.option(7, RawClient.goData("disk"));
            assertEquals(ERR_TLS_REQD, c.optionReply().type(), "GO");
            c.option(3, new byte[0]);
            assertEquals(ERR_TLS_REQD, c.optionReply().type(), "LIST");
            c.option(8, new byte[0]);
            assertEquals(ERR_TLS_REQD, c.optionReply().type(), "STRUCTURED_REPLY");
            c.option(99, new byte[] {1});
            assertEquals(ERR_TLS_REQD, c.optionReply().type(), "unknown option");
            c.option(5, new byte[] {1});
            assertEquals(ERR_INVALID, c.optionReply().type(), "STARTTLS with data");
            // Still usable: the refusals changed nothing.
            c.startTls(certs.clientContext());
            c.go("disk", true);
            c.request(0, 0, 2, 0, 64);
            RawClient.Chunk ch = c.chunk(2);
            assertTrue(ch.done());
            assertArrayEquals(slice(0, 64), java.util.Arrays.copyOfRange(ch.payload(), 8, 72));
        }
    }

    @Test
    void exportNameBeforeStartTlsDropsTheConnection() throws Exception {
        try (RawClient c = client().handshake()) {
            c.option(1, "disk".getBytes(StandardCharsets.UTF_8));
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void abortBeforeStartTlsIsAcknowledged() throws Exception {
        try (RawClient c = client().handshake()) {
            c.option(2, new byte[0]);
            assertEquals(1, c.optionReply().type());
            assertTrue(c.closedByServer());
        }
    }

    @Test
    void startTlsTwiceIsInvalidAndTheSessionGoesOn() throws Exception {
        try (RawClient c = client().handshake().startTls(certs.clientContext())) {
            c.option(5, new byte[0]);
            assertEquals(ERR_INVALID, c.optionReply().type());
            c.option(3, new byte[0]);
            assertEquals(2, c.optionReply().type(), "LIST works inside TLS");
            assertEquals(1, c.optionReply().type());
            c.go("disk", false);
            c.request(0, 0, 3, SIZE - 100, 100);
            assertEquals(0, c.simpleReply(3));
            assertArrayEquals(slice(SIZE - 100, 100), c.read(100).array());
            c.request(0, 2, 4, 0, 0);
        }
    }

    @Test
    void garbageInsteadOfAClientHelloDropsOnlyThatConnection() throws Exception {
        try (RawClient bystander = client().handshake().startTls(certs.clientContext());
                RawClient c = client().handshake()) {
            c.option(5, new byte[0]);
            assertEquals(1, c.optionReply().type());
            c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertTrue(drainsToClose(c), "the server closes a connection that does not speak TLS");
            // The connection opened before keeps working.
            bystander.go("disk", false);
            bystander.request(0, 0, 5, 8192, 10);
            assertEquals(0, bystander.simpleReply(5));
            assertArrayEquals(slice(8192, 10), bystander.read(10).array());
        }
    }

    @Test
    void aClientThatLeavesMidHandshakeIsForgotten() throws Exception {
        try (RawClient c = client().handshake()) {
            c.option(5, new byte[0]);
            assertEquals(1, c.optionReply().type());
            // A TLS record header promising more than is sent, then gone.
            c.write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01});
        }
        ProtocolRobustnessTest.waitFor(() -> server.activeConnections() == 0, "the half-handshake connection ended");
    }

    @Test
    void aTlsClientThatDoesNotTrustTheServerCannotStart() throws Exception {
        TestCertificates other = TestCertificates.make(dir.resolve("stranger-pki"), "stranger CA");
        try (RawClient c = client().handshake()) {
            assertThrows(javax.net.ssl.SSLException.class, () -> c.startTls(other.clientContext()));
        }
    }

    @Test
    void sixteenTlsClientsAtOnceWithRequestsInFlight() throws Exception {
        javax.net.ssl.SSLContext context = certs.clientContext();
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        java.util.List<Thread> threads = new java.util.ArrayList<>();
        for (int i = 0; i < 16; i++) {
            int n = i;
            threads.add(Thread.ofVirtual().start(() -> {
                try (RawClient c = client().handshake().startTls(context)) {
                    c.go("disk", false);
                    Random r = new Random(n);
                    int[] offsets = new int[8];
                    // Eight reads sent before any reply is read: the TLS channel is read and written at once.
                    for (int k = 0; k < offsets.length; k++) {
                        offsets[k] = r.nextInt(SIZE - 65536);
                        c.request(0, 0, k, offsets[k], 65536);
                    }
                    for (int k = 0; k < offsets.length; k++) {
                        ByteBuffer h = c.read(16);
                        assertEquals(0x67446698, h.getInt());
                        assertEquals(0, h.getInt());
                        int cookie = (int) h.getLong();
                        assertArrayEquals(slice(offsets[cookie], 65536), c.read(65536).array());
                    }
                    c.request(0, 2, 99, 0, 0);
                } catch (Throwable t) {
                    errors.add(t);
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertTrue(errors.isEmpty(), "client failures: " + errors);
        ProtocolRobustnessTest.waitFor(() -> server.activeConnections() == 0, "every TLS connection ended");
    }

    /** Reads whatever the server still sends (a TLS alert, say) until it closes; false if it does not. */
    static boolean drainsToClose(RawClient c) {
        ByteBuffer b = ByteBuffer.allocate(4096);
        try {
            while (true) {
                b.clear();
                if (c.ch.read(b) < 0) {
                    return true;
                }
            }
        } catch (IOException e) {
            return true; // reset by peer
        }
    }
}
