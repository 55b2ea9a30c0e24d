package org.blksnap.itest.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Snapshots;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 'blksnap serve' against real NBD clients in the guest: nbdinfo's map of
 * blksnap:changed:N is the CBT, nbdcopy and qemu-img copy the image as it was
 * at the take while the original is overwritten, an overflow answers EIO, and
 * the snapshot goes when the last client does or on SIGTERM.
 */
class ServeIT {
    private static final long MIB = 1L << 20;
    private static final long SIZE = 64 * MIB;
    private static final Path LAUNCHER = Path.of(System.getProperty("user.dir"), "bin", "blksnap");

    @TempDir
    Path tmp;

    @AfterEach
    void destroyLeftovers() throws IOException {
        Snapshots.destroyAll();
    }

    /** A running 'blksnap serve', its stdout and stderr merged and collected. */
    private static final class Served implements AutoCloseable {
        final Process process;
        final StringBuilder output = new StringBuilder();
        final Thread reader;

        Served(Path socket, String... args) throws IOException {
            List<String> cmd = new ArrayList<>(List.of(LAUNCHER.toString(), "serve", "--socket", socket.toString(),
                    "--storage", "/tmp"));
            cmd.addAll(List.of(args));
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            // No class-data-sharing archive to write at exit: that alone takes a minute under TCG.
            pb.environment().put("BLKSNAP_CDS", "0");
            process = pb.start();
            reader = Thread.ofVirtual().start(() -> {
                try (BufferedReader r = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null;) {
                        synchronized (output) {
                            output.append(line).append('\n');
                            output.notifyAll();
                        }
                    }
                } catch (IOException e) {
                    // The process ended.
                }
            });
        }

        String output() {
            synchronized (output) {
                return output.toString();
            }
        }

        /** Waits for a line that matches; returns it. */
        String await(Predicate<String> line, String what) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
            synchronized (output) {
                while (true) {
                    for (String l : output.toString().split("\n")) {
                        if (line.test(l)) {
                            return l;
                        }
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || (!process.isAlive() && !reader.isAlive())) {
                        fail("no line with " + what + " from blksnap serve: " + output);
                    }
                    output.wait(Math.max(1, Math.min(1000, left / 1_000_000)));
                }
            }
        }

        /** The NBD URI printed for an export. */
        String uri(String export) throws InterruptedException {
            String l = await(s -> s.startsWith(export + " nbd+unix://"), "the URI of " + export);
            return l.substring(export.length() + 1);
        }

        int exit() throws InterruptedException {
            assertTrue(process.waitFor(180, TimeUnit.SECONDS), "blksnap serve did not end: " + output());
            reader.join(10_000);
            return process.exitValue();
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    private static String exportName(LoopDevice loop) {
        return loop.device().getFileName().toString();
    }

    private static void write(Path device, long offset, byte[] data) throws IOException {
        try (FileChannel ch = FileChannel.open(device, StandardOpenOption.WRITE, StandardOpenOption.DSYNC)) {
            ch.write(ByteBuffer.wrap(data), offset);
            ch.force(true);
        }
    }

    private static byte[] random(long n, long seed) {
        byte[] b = new byte[(int) n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void mapOfChangedContextIsExactlyTheCbtExtents() throws Exception {
        Path socket = tmp.resolve("s.sock");
        try (LoopDevice loop = LoopDevice.create(SIZE)) {
            Shell.blksnap("attach", "-d", loop.path()).ok();
            int bs = Integer.parseInt(Shell.blksnap("cbtinfo", "-d", loop.path()).ok().value("block_size"));
            write(loop.device(), 2L * bs, new byte[4096]);
            Debugfs.cbtSwitch(loop.device()); // changes number 1: block 2 changed before it
            write(loop.device(), 10L * bs + 512, new byte[1024]);
            write(loop.device(), 20L * bs + bs - 4096, new byte[8192]); // blocks 20 and 21
            write(loop.device(), 40L * bs, new byte[bs]);
            try (Served s = new Served(socket, "-d", loop.path(), "--since", "1")) {
                String uri = s.uri(exportName(loop));
                assertTrue(s.output().contains("changes number 2"), s.output());
                // Held open so the serve outlives each client below.
                try (SocketChannel keeper = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                    assertTrue(keeper.isConnected());
                    assertEquals(List.of(new long[] {10L * bs, bs}, new long[] {20L * bs, 2L * bs},
                            new long[] {40L * bs, bs}).stream().map(a -> a[0] + "+" + a[1]).toList(),
                            changed(uri, 1, bs), "blksnap:changed:1");
                    assertEquals(List.of(2L * bs + "+" + bs, 10L * bs + "+" + bs, 20L * bs + "+" + 2L * bs,
                            40L * bs + "+" + bs), changed(uri, 0, bs), "blksnap:changed:0");
                    assertEquals(List.of(), changed(uri, 2, bs), "blksnap:changed:2");
                    String list = Shell.run(List.of("nbdinfo", "--json", uri)).ok().out();
                    assertTrue(list.contains("\"blksnap:changed:1\""), list);
                    assertTrue(list.contains("\"is_read_only\": true"), list);
                    assertEquals(1, Snapshots.list().size(), "the snapshot lives while a client is connected");
                }
                assertEquals(0, s.exit(), s.output());
                assertTrue(s.output().contains("destroying snapshot"), s.output());
            }
            assertEquals(List.of(), Snapshots.list(), "snapshot destroyed after the last client left");
            assertTrue(Files.notExists(socket), "socket removed");
        }
    }

    /** The extents nbdinfo --map=blksnap:changed:N reports with bit 0 set, as "offset+length". */
    private static List<String> changed(String uri, int n, int bs) throws IOException {
        String out = Shell.run(List.of("nbdinfo", "--map=blksnap:changed:" + n, uri)).ok().out();
        List<String> got = new ArrayList<>();
        long pos = 0;
        for (String line : out.strip().split("\n")) {
            String[] f = line.strip().split("\\s+");
            long off = Long.parseLong(f[0]);
            long len = Long.parseLong(f[1]);
            int flags = Integer.parseInt(f[2]);
            assertEquals(pos, off, "consecutive extents: " + out);
            pos += len;
            assertTrue(flags == 0 || flags == 1, "only bit 0: " + out);
            if (flags == 1) {
                got.add(off + "+" + len);
            }
        }
        assertEquals(SIZE, pos, "the map covers the device: " + out);
        return got;
    }

    @Test
    void nbdcopyAndQemuImgCopyTheImageAtTakeWhileTheOriginalIsWritten() throws Exception {
        Path socket = tmp.resolve("s.sock");
        try (LoopDevice loop = LoopDevice.create(SIZE)) {
            byte[] atTake = random(SIZE, 17);
            write(loop.device(), 0, atTake);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong writes = new AtomicLong();
            try (Served s = new Served(socket, "-d", loop.path(), "--limit", "128M")) {
                String uri = s.uri(exportName(loop));
                Thread writer = Thread.ofPlatform().start(() -> {
                    Random r = new Random(5);
                    byte[] junk = random(MIB, 23);
                    try (FileChannel ch = FileChannel.open(loop.device(), StandardOpenOption.WRITE)) {
                        while (!stop.get()) {
                            ch.write(ByteBuffer.wrap(junk), (long) r.nextInt((int) (SIZE / MIB)) * MIB);
                            ch.force(false);
                            writes.incrementAndGet();
                        }
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                try (SocketChannel keeper = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                    assertTrue(keeper.isConnected());
                    Path copy = tmp.resolve("nbdcopy.img");
                    Shell.run(List.of("nbdcopy", uri, copy.toString())).ok();
                    Path converted = tmp.resolve("qemu.img");
                    Shell.run(List.of("qemu-img", "convert", "-f", "raw", "-O", "raw", uri, converted.toString()))
                            .ok();
                    stop.set(true);
                    writer.join();
                    assertTrue(writes.get() > 0, "the original was written during the copies");
                    assertArrayEquals(atTake, Files.readAllBytes(copy), "nbdcopy: the image at take");
                    assertArrayEquals(atTake, Files.readAllBytes(converted), "qemu-img convert: the image at take");
                } finally {
                    stop.set(true);
                    writer.join();
                }
                assertEquals(0, s.exit(), s.output());
            }
            byte[] now = Files.readAllBytes(loop.device());
            assertNotEquals(-1, java.util.Arrays.mismatch(atTake, now), "the original did change");
            assertEquals(List.of(), Snapshots.list());
        }
    }

    @Test
    void overflowAnswersEioAndSaysSo() throws Exception {
        Path socket = tmp.resolve("s.sock");
        try (LoopDevice loop = LoopDevice.create(SIZE)) {
            write(loop.device(), 0, random(SIZE, 3));
            try (Served s = new Served(socket, "-d", loop.path(), "--limit", "1M")) {
                String uri = s.uri(exportName(loop));
                try (SocketChannel keeper = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                    assertTrue(keeper.isConnected());
                    write(loop.device(), 0, random(16 * MIB, 4));
                    s.await(l -> l.contains("is full"), "the overflow");
                    Shell.Result copy = Shell.run(List.of("nbdcopy", uri, tmp.resolve("x.img").toString()));
                    assertNotEquals(0, copy.status(), copy.toString());
                    assertTrue(copy.err().contains("Input/output error"), copy.err());
                }
                assertEquals(7, s.exit(), s.output());
            }
            assertEquals(List.of(), Snapshots.list());
        }
    }

    @Test
    void sigtermWithAClientConnectedDestroysTheSnapshot() throws Exception {
        Path socket = tmp.resolve("s.sock");
        try (LoopDevice loop = LoopDevice.create(SIZE)) {
            try (Served s = new Served(socket, "-d", loop.path())) {
                s.uri(exportName(loop));
                try (SocketChannel keeper = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                    assertTrue(keeper.isConnected());
                    assertEquals(1, Snapshots.list().size());
                    s.process.destroy();
                    assertEquals(143, s.exit(), s.output());
                }
            }
            assertEquals(List.of(), Snapshots.list(), "SIGTERM left the snapshot behind");
            assertTrue(Files.notExists(socket), "socket removed");
        }
    }
}
