package org.blksnap.itest.api;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

/** Loop devices over /tmp files and plain device I/O for the API tests. */
final class Loops {
    private Loops() {
    }

    /** A loop device, detached and its file deleted on close. */
    record Loop(Path file, Path device) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            try (org.blksnap.api.Filter f = org.blksnap.api.Filter.open(device)) {
                if (f.isAttached()) {
                    f.detach();
                }
            } catch (IOException ignored) {
                // Best effort: the loop detach below removes the filter too.
            }
            sh("losetup", "-d", device.toString());
            Files.deleteIfExists(file);
        }
    }

    static Loop create(long bytes) throws IOException {
        Path file = Files.createTempFile("api-loop-", ".img");
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(bytes);
        }
        return new Loop(file, Path.of(sh("losetup", "-f", "--show", file.toString())));
    }

    static String sh(String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + out);
            }
            return out.strip();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    static void write(Path device, long offset, byte[] data) throws IOException {
        try (FileChannel ch = FileChannel.open(device, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(data), offset);
            ch.force(true);
        }
    }

    static byte[] read(Path device, long offset, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        try (FileChannel ch = FileChannel.open(device, StandardOpenOption.READ)) {
            while (buf.hasRemaining() && ch.read(buf, offset + buf.position()) > 0) {
                // keep reading
            }
        }
        return buf.array();
    }
}
