package org.blksnap.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.ProgressListener;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.Repository;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code backup serve} read by nbdcopy, and the errors of {@code backup
 * serve}, {@code mount} and {@code umount} that need no kernel; mounting runs
 * in the guest (BackupMountIT).
 */
class BackupServeCliTest {
    private static final int CHUNK = 64 << 10;

    @TempDir
    Path dir;
    Path repo;
    Path image;
    String backupId;

    @BeforeEach
    void backUp() throws IOException {
        repo = dir.resolve("repo");
        byte[] content = new byte[30 * CHUNK + 4096];
        new Random(19).nextBytes(content);
        java.util.Arrays.fill(content, 3 * CHUNK, 9 * CHUNK, (byte) 0);
        image = dir.resolve("vdb.img");
        Files.write(image, content);
        try (Repository r = Repository.openOrCreate(new LocalDirectoryStore(repo), CHUNK)) {
            backupId = new BackupEngine(r, BackupEngine.Options.defaults(), ProgressListener.NONE)
                    .run(new FileSource("/dev/vdb", image, content.length)).backupId();
        }
    }

    @Test
    void nbdcopyOfTheServedBackupEqualsTheImage() throws Exception {
        Path socket = dir.resolve("b.sock");
        AtomicReference<Run> done = new AtomicReference<>();
        Thread serve = serving(socket, done);
        Path copy = dir.resolve("copy.img");
        Process p = new ProcessBuilder("/usr/bin/nbdcopy", "nbd+unix:///vdb?socket=" + socket, copy.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
        assertEquals(-1, Files.mismatch(image, copy));
        serve.interrupt();
        serve.join(30_000);
        Run r = done.get();
        assertEquals(0, r.status(), r.err());
        assertEquals("vdb nbd+unix:///vdb?socket=" + socket + "\n", r.out());
        assertTrue(Files.notExists(socket), "the socket is removed");
    }

    @Test
    void withTlsCertificatesNbdcopyNeedsTlsAndGetsTheImage() throws Exception {
        Path server = Files.createDirectories(dir.resolve("tls"));
        Path client = Files.createDirectories(dir.resolve("tls-client"));
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", server.resolve("server-key.pem").toString(),
                "-out", server.resolve("server-cert.pem").toString(), "-days", "2", "-subj", "/CN=localhost");
        Files.copy(server.resolve("server-cert.pem"), client.resolve("ca-cert.pem"));
        Path socket = dir.resolve("t.sock");
        AtomicReference<Run> done = new AtomicReference<>();
        Thread serve = serving(socket, done, "--tls-certificates", server.toString());
        Path plain = dir.resolve("plain.img");
        Process p = new ProcessBuilder("/usr/bin/nbdcopy", "nbd+unix:///vdb?socket=" + socket, plain.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor() != 0, "a plain-text client is refused: " + out);
        Path copy = dir.resolve("copy.img");
        p = new ProcessBuilder("/usr/bin/nbdcopy", "nbds+unix:///vdb?socket=" + socket + "&tls-certificates="
                + client, copy.toString()).redirectErrorStream(true).start();
        out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
        assertEquals(-1, Files.mismatch(image, copy));
        serve.interrupt();
        serve.join(30_000);
        Run r = done.get();
        assertEquals(0, r.status(), r.err());
        assertEquals("vdb nbds+unix:///vdb?socket=" + socket + "\n", r.out());
    }

    @Test
    void aTlsDirectoryWithoutAKeyIsOneLine() throws Exception {
        Path server = Files.createDirectories(dir.resolve("tls"));
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", dir.resolve("elsewhere.pem").toString(),
                "-out", server.resolve("server-cert.pem").toString(), "-days", "2", "-subj", "/CN=localhost");
        Run r = Run.of("backup", "serve", "latest", "--repo", repo.toString(), "--socket",
                dir.resolve("s.sock").toString(), "--tls-certificates", server.toString());
        assertEquals(ExitCodes.USAGE, r.status(), r.err());
        assertEquals(1, r.errLines(), r.err());
        assertTrue(r.err().contains("--tls-certificates: " + server.resolve("server-key.pem") + ": no such file"),
                r.err());
        assertTrue(Files.notExists(dir.resolve("s.sock")), "nothing was bound");
    }

    private static void openssl(String... args) throws Exception {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("/usr/bin/openssl"));
        cmd.addAll(java.util.List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
    }

    @Test
    void serveOfAMissingBackupIsOneLine() {
        Run r = Run.of("backup", "serve", "20200101-000000-dead", "--repo", repo.toString(), "--socket",
                dir.resolve("s.sock").toString());
        assertEquals(ExitCodes.FAILURE, r.status());
        assertEquals(1, r.errLines(), r.err());
        assertTrue(r.err().contains("no backup '20200101-000000-dead'"), r.err());
    }

    @Test
    void serveOfAMissingDeviceIsOneLine() {
        Run r = Run.of("backup", "serve", "latest", "--repo", repo.toString(), "--device", "/dev/vdz", "--socket",
                dir.resolve("s.sock").toString());
        assertEquals(ExitCodes.FAILURE, r.status());
        assertEquals(1, r.errLines(), r.err());
        assertTrue(r.err().contains("holds no device /dev/vdz"), r.err());
    }

    @Test
    void mountOnAMissingDirectoryIsAUsageError() {
        Run r = Run.of("backup", "mount", "latest", "--repo", repo.toString(), dir.resolve("nosuch").toString());
        assertEquals(ExitCodes.USAGE, r.status());
        assertEquals(1, r.errLines(), r.err());
        assertTrue(r.err().contains("nosuch: no such directory"), r.err());
    }

    @Test
    void mountOnAMountPointIsBusy() {
        // / is a mount point on every system.
        Run r = Run.of("backup", "mount", "latest", "--repo", repo.toString(), "/");
        assertEquals(ExitCodes.BUSY, r.status(), r.err());
        assertTrue(r.err().contains("/ is a mount point already"), r.err());
    }

    @Test
    void umountOfADirectoryWithoutABackupIsNotFound() throws IOException {
        Path mp = Files.createDirectory(dir.resolve("mnt"));
        Run r = Run.of("backup", "umount", mp.toString());
        assertEquals(ExitCodes.NOT_FOUND, r.status(), r.err());
        assertEquals(1, r.errLines(), r.err());
        assertTrue(r.err().contains("is not a backup mounted by 'blksnap backup mount'"), r.err());
    }

    /** Starts {@code backup serve latest} on {@code socket}; returns once it listens. */
    private Thread serving(Path socket, AtomicReference<Run> done, String... extra) throws InterruptedException {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("backup", "serve", "latest",
                "--repo", repo.toString(), "--socket", socket.toString()));
        args.addAll(java.util.List.of(extra));
        Thread serve = Thread.ofPlatform().start(() -> done.set(Run.of(args.toArray(String[]::new))));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.exists(socket) && serve.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(Files.exists(socket), "serving: " + done.get());
        return serve;
    }
}
