package org.blksnap.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The handshake KernelClient runs before it hands the socket to the kernel,
 * against the real server; attaching to /dev/nbdN needs root and runs in the
 * guest (BackupMountIT).
 */
class KernelClientTest {
    @TempDir
    Path dir;

    private NbdServer serve(long size) throws IOException {
        Path image = dir.resolve("disk.img");
        Files.write(image, new byte[(int) size]);
        return NbdServer.start(new ListenAddress.Unix(dir.resolve("s.sock")),
                new Exports(Map.of("vdb", FileExport.open(image))), new ConnectionListener() {
                });
    }

    private static Path socket(NbdServer server) {
        return ((ListenAddress.Unix) server.address()).path();
    }

    @Test
    void goGivesTheSizeAndReadOnlyFlagsAndLeavesTheSocketInTransmission() throws Exception {
        try (NbdServer server = serve(1 << 20); UnixSocketFd s = UnixSocketFd.connect(socket(server))) {
            KernelClient.Handshake h = KernelClient.negotiate(s, "vdb");
            assertEquals(1 << 20, h.size());
            assertTrue((h.flags() & Protocol.TFLAG_HAS_FLAGS) != 0, "flags: " + h.flags());
            assertTrue((h.flags() & Protocol.TFLAG_READ_ONLY) != 0, "read-only: " + h.flags());
            // A simple-reply read, as the kernel sends them.
            ByteBuffer req = ByteBuffer.allocate(Protocol.REQUEST_HEADER_BYTES);
            req.putInt(Protocol.REQUEST_MAGIC).putShort((short) 0).putShort((short) Protocol.CMD_READ)
                    .putLong(42).putLong(4096).putInt(512);
            s.writeFully(req.array());
            ByteBuffer reply = ByteBuffer.wrap(s.readFully(16 + 512));
            assertEquals(Protocol.SIMPLE_REPLY_MAGIC, reply.getInt());
            assertEquals(0, reply.getInt(), "no error");
            assertEquals(42, reply.getLong(), "cookie");
        }
    }

    @Test
    void anUnknownExportIsRefusedWithTheServersWords() throws Exception {
        try (NbdServer server = serve(4096); UnixSocketFd s = UnixSocketFd.connect(socket(server))) {
            IOException e = assertThrows(IOException.class, () -> KernelClient.negotiate(s, "nosuch"));
            assertTrue(e.getMessage().startsWith("the server refused export 'nosuch'"), e.getMessage());
        }
    }

    @Test
    void noServerIsOneClearError() {
        IOException e = assertThrows(IOException.class, () -> UnixSocketFd.connect(dir.resolve("none.sock")));
        assertTrue(e.getMessage().contains("none.sock") && e.getMessage().contains("No such file"), e.getMessage());
    }
}
