package org.blksnap.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NbdServerTest {
    @TempDir
    Path dir;
    final java.util.List<FileExport> opened = new java.util.ArrayList<>();

    @org.junit.jupiter.api.AfterEach
    void closeExports() throws IOException {
        for (FileExport e : opened) {
            e.close();
        }
    }

    NbdServer start(Path socket) throws IOException {
        Path file = dir.resolve("f.img");
        if (Files.notExists(file)) {
            Files.write(file, new byte[4096]);
        }
        FileExport export = FileExport.open(file);
        opened.add(export);
        return NbdServer.start(new ListenAddress.Unix(socket), new Exports(Map.of("f", export)),
                new ConnectionListener() {
                });
    }

    @Test
    void socketIsOwnerOnlyAndALiveOneIsNotTakenOver() throws IOException {
        Path socket = dir.resolve("s.sock");
        try (NbdServer first = start(socket)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
            IOException e = assertThrows(IOException.class, () -> start(socket));
            assertTrue(e.getMessage().contains("another server is listening there"), e.getMessage());
            // The refused start probed the socket with a connection of its own:
            // the first server sees it end (EOF) on its own thread, shortly after.
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
            while (first.activeConnections() != 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
                Thread.yield();
            }
            assertEquals(0, first.activeConnections(), "the probe connection must not linger");
        }
        assertTrue(Files.notExists(socket));
    }

    @Test
    void aStaleSocketIsReplacedAndAFileIsNot() throws IOException {
        Path socket = dir.resolve("stale.sock");
        try (ServerSocketChannel old = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            old.bind(UnixDomainSocketAddress.of(socket));
        }
        assertTrue(Files.exists(socket), "closing a Unix server socket leaves its file");
        try (NbdServer s = start(socket)) {
            assertEquals(new ListenAddress.Unix(socket), s.address());
        }
        Path file = dir.resolve("plain");
        Files.writeString(file, "keep me");
        IOException e = assertThrows(IOException.class, () -> start(file));
        assertTrue(e.getMessage().contains("is not a socket"), e.getMessage());
        assertEquals("keep me", Files.readString(file));
    }

    @Test
    void tcpNeedsAHost() {
        assertThrows(IllegalArgumentException.class, () -> new ListenAddress.Tcp("", 10809));
    }
}
