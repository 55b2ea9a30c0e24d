package org.blksnap.itest.snapshot;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import com.sun.nio.file.ExtendedOpenOption;

import org.blksnap.itest.support.Shell;

/** Test data: files, digests, O_DIRECT I/O on devices. */
final class Data {
    static final int ALIGN = 4096;

    private Data() {
    }

    /** Writes a file of pseudo-random bytes determined by the seed, and syncs it. */
    static void writeFile(Path file, int bytes, long seed) throws IOException {
        byte[] b = new byte[bytes];
        new Random(seed).nextBytes(b);
        Files.write(file, b);
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
            c.force(true);
        }
    }

    /** Overwrites part of a file in place, as an application updating it would. */
    static void overwrite(Path file, long offset, int bytes, long seed) throws IOException {
        byte[] b = new byte[bytes];
        new Random(seed).nextBytes(b);
        try (FileChannel c = FileChannel.open(file, StandardOpenOption.WRITE)) {
            c.write(ByteBuffer.wrap(b), offset);
            c.force(true);
        }
    }

    /** MD5 of every regular file under a directory, by relative path. */
    static Map<String, String> md5Tree(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                if (p.toString().contains("lost+found")) {
                    continue;
                }
                try (InputStream in = Files.newInputStream(p)) {
                    out.put(dir.relativize(p).toString(), digest(in));
                }
            }
        }
        return out;
    }

    /** MD5 of a whole device or file, read with O_DIRECT so no cache hides anything. */
    static String md5Device(Path device) throws IOException {
        return md5Range(device, 0, Files.isRegularFile(device) ? Files.size(device) : sizeOf(device));
    }

    static long sizeOf(Path device) throws IOException {
        return Long.parseLong(Shell.sh("blockdev", "--getsize64", device.toString()));
    }

    /** MD5 of a byte range of a device, read with O_DIRECT. */
    static String md5Range(Path device, long offset, long length) throws IOException {
        MessageDigest md = md5();
        ByteBuffer buf = aligned(1 << 20);
        try (FileChannel c = open(device, StandardOpenOption.READ)) {
            long pos = offset;
            long end = offset + length;
            while (pos < end) {
                buf.clear();
                buf.limit((int) Math.min(buf.capacity(), end - pos));
                int n = c.read(buf, pos);
                if (n <= 0) {
                    throw new IOException(device + ": short read at " + pos);
                }
                buf.flip();
                md.update(buf);
                pos += n;
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Copies the first MiBs of a device into a regular file, as a reference copy at a point in time. */
    static void copyDevice(Path device, Path file, int mib) throws IOException {
        Shell.sh("dd", "if=" + device, "of=" + file, "bs=1M", "count=" + mib, "iflag=direct", "status=none");
    }

    /** O_DIRECT for block devices; regular files may live on tmpfs, which has none. */
    static FileChannel open(Path path, OpenOption mode) throws IOException {
        return Files.isRegularFile(path) ? FileChannel.open(path, mode)
                : FileChannel.open(path, mode, ExtendedOpenOption.DIRECT);
    }

    /** One O_DIRECT write: offset and length in bytes, both multiples of {@link #ALIGN}. */
    record Write(long offset, int length) {
    }

    /** A reproducible pattern of random O_DIRECT writes of mixed sizes over a device. */
    static List<Write> randomWrites(long deviceBytes, int count, long seed) {
        Random r = new Random(seed);
        int[] sizes = {4096, 8192, 65536, 262144, 1 << 20};
        return java.util.stream.IntStream.range(0, count).mapToObj(i -> {
            int len = sizes[r.nextInt(sizes.length)];
            long off = (long) r.nextInt((int) ((deviceBytes - len) / ALIGN)) * ALIGN;
            return new Write(off, len);
        }).toList();
    }

    /** Performs the writes with O_DIRECT, each with its own random content. */
    static void writeDirect(Path device, List<Write> writes, long seed) throws IOException {
        Random r = new Random(seed);
        ByteBuffer buf = aligned(1 << 20);
        byte[] b = new byte[1 << 20];
        try (FileChannel c = open(device, StandardOpenOption.WRITE)) {
            for (Write w : writes) {
                r.nextBytes(b);
                buf.clear();
                buf.put(b, 0, w.length());
                buf.flip();
                while (buf.hasRemaining()) {
                    c.write(buf, w.offset() + buf.position());
                }
            }
        }
    }

    /** One O_DIRECT write of {@code length} bytes of {@code value} at {@code offset}. */
    static void writeFill(Path device, long offset, int length, int value) throws IOException {
        ByteBuffer buf = aligned(length);
        while (buf.hasRemaining()) {
            buf.put((byte) value);
        }
        buf.flip();
        try (FileChannel c = open(device, StandardOpenOption.WRITE)) {
            while (buf.hasRemaining()) {
                c.write(buf, offset + buf.position());
            }
        }
    }

    /**
     * Reads {@code length} bytes at {@code offset} with O_DIRECT and returns
     * the distinct byte values found, as two hex digits each, e.g. "22" or
     * "11,33": one value when the range is uniformly filled.
     */
    static String fillOf(Path device, long offset, int length) throws IOException {
        ByteBuffer buf = aligned(length);
        try (FileChannel c = open(device, StandardOpenOption.READ)) {
            while (buf.hasRemaining()) {
                if (c.read(buf, offset + buf.position()) <= 0) {
                    throw new IOException(device + ": short read at " + (offset + buf.position()));
                }
            }
        }
        buf.flip();
        // Formatting once per value seen, not per byte: a string per byte cost
        // about 1.5 s a 256 KiB chunk under emulation.
        boolean[] seen = new boolean[256];
        while (buf.hasRemaining()) {
            seen[buf.get() & 0xff] = true;
        }
        java.util.List<String> values = new java.util.ArrayList<>();
        for (int v = 0; v < seen.length; v++) {
            if (seen[v]) {
                values.add(String.format("%02x", v));
            }
        }
        return String.join(",", values);
    }

    static ByteBuffer aligned(int size) {
        return ByteBuffer.allocateDirect(size + ALIGN).alignedSlice(ALIGN).slice(0, size);
    }

    private static String digest(InputStream in) throws IOException {
        MessageDigest md = md5();
        byte[] b = new byte[1 << 16];
        int n;
        while ((n = in.read(b)) > 0) {
            md.update(b, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
