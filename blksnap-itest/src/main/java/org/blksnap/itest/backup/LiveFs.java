package org.blksnap.itest.backup;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import org.blksnap.itest.support.Shell;

/**
 * An ext4 on a device, mounted, with files of known content, and a writer
 * that keeps changing it in a directory of its own while backups run.
 */
final class LiveFs implements AutoCloseable {
    static final String CHURN = "churn";

    final Path device;
    final Path mount;
    private Thread writer;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicLong churned = new AtomicLong();

    private LiveFs(Path device, Path mount) {
        this.device = device;
        this.mount = mount;
    }

    /** mkfs.ext4 (no lazy init: no background writes) and mount. */
    static LiveFs create(Path device) throws IOException {
        Shell.sh("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", device.toString());
        Path dir = Files.createTempDirectory("backup-live");
        Shell.sh("mount", device.toString(), dir.toString());
        Files.createDirectories(dir.resolve(CHURN));
        return new LiveFs(device, dir);
    }

    static void write(Path file, int bytes, long seed) throws IOException {
        byte[] b = new byte[bytes];
        new Random(seed).nextBytes(b);
        Files.write(file, b);
    }

    /** Overwrites part of a file in place, as an application would. */
    static void overwrite(Path file, long offset, int bytes, long seed) throws IOException {
        byte[] b = new byte[bytes];
        new Random(seed).nextBytes(b);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(b), offset);
        }
    }

    /** Starts writing files under churn/ until {@link #stopWriting}. */
    void startWriting() {
        stop.set(false);
        writer = Thread.ofPlatform().name("live-writer").start(() -> {
            byte[] block = new byte[64 << 10];
            Random r = new Random(99);
            long n = 0;
            try {
                while (!stop.get()) {
                    r.nextBytes(block);
                    Path f = mount.resolve(CHURN).resolve("f" + (n++ % 64));
                    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                        ch.write(ByteBuffer.wrap(block), 0);
                        ch.force(true);
                    }
                    churned.addAndGet(block.length);
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    /** @return bytes the writer wrote */
    long stopWriting() throws InterruptedException {
        stop.set(true);
        if (writer != null) {
            writer.join();
        }
        return churned.get();
    }

    /**
     * A restored copy: e2fsck -fn must find it clean; then mounted read-only
     * and read.
     *
     * @param device a block device holding a restored ext4
     * @return {@link #md5Tree} of it
     */
    static Map<String, String> md5TreeOfRestored(Path device) throws IOException {
        Shell.Result fsck = Shell.run("e2fsck", "-fn", device.toString());
        if (fsck.status() != 0) {
            throw new AssertionError("fsck of the restored " + device + ": " + fsck.output());
        }
        Path mnt = Files.createTempDirectory("backup-restored");
        Shell.sh("mount", "-o", "ro", device.toString(), mnt.toString());
        try {
            return md5Tree(mnt);
        } finally {
            Shell.sh("umount", mnt.toString());
            Files.delete(mnt);
        }
    }

    /** md5 of every file outside churn/, by relative path. */
    static Map<String, String> md5Tree(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String rel = root.relativize(p).toString();
                if (Files.isRegularFile(p) && !rel.startsWith(CHURN + "/") && !rel.startsWith("lost+found")) {
                    out.put(rel, md5(p));
                }
            }
        }
        return out;
    }

    private static String md5(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            MessageDigest md = MessageDigest.getInstance("MD5");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            stopWriting();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Shell.run("umount", mount.toString());
        Files.deleteIfExists(mount);
    }
}
