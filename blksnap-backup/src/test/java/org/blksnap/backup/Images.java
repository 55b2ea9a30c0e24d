package org.blksnap.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import org.blksnap.api.CbtInfo;
import org.blksnap.api.CbtMap;
import org.blksnap.api.Uuid;
import org.blksnap.backup.engine.SnapshotSource;
import org.blksnap.backup.engine.SourceDevice;

/**
 * File-backed "devices" for host tests: images with random, zero and
 * repeated regions, and a change tracker that stamps the blocks a test
 * changes, the way the kernel's CBT map does at each take.
 */
final class Images {
    static final int CHUNK = 64 << 10;
    static final int CBT_BLOCK = 16 << 10;
    /** Bytes per pack of test repositories: four chunks. */
    static final long PACK = 4L * CHUNK;

    private Images() {
    }

    /** @return {@code n} random bytes, the same for the same seed */
    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** Random data with an all-zero stretch and a repeated chunk. */
    static byte[] content(int bytes, long seed) {
        byte[] b = random(bytes, seed);
        int zeroFrom = bytes / 4 / CHUNK * CHUNK;
        java.util.Arrays.fill(b, zeroFrom, Math.min(bytes, zeroFrom + 3 * CHUNK), (byte) 0);
        if (bytes >= 8 * CHUNK) {
            System.arraycopy(b, 0, b, (bytes / CHUNK - 2) * CHUNK, CHUNK);
        }
        return b;
    }

    /** A simulated device: an image file (written unless content is null) and its change tracker. */
    static final class Device {
        String name;
        /** What udev would call the disk, or null (a name only). */
        String identity;
        final Path file;
        Uuid generation = Uuid.random();
        int changesNumber;
        byte[] map;

        Device(String name, Path file, byte[] content) throws IOException {
            this.name = name;
            this.file = file;
            if (content != null) {
                Files.write(file, content);
            }
            this.map = new byte[(int) Math.ceilDiv(Files.size(file), CBT_BLOCK)];
        }

        /** Overwrites bytes as a write to the live device would; CBT marks them. */
        void write(long offset, byte[] data) throws IOException {
            try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(data), offset);
            }
            for (long b = offset / CBT_BLOCK; b <= (offset + data.length - 1) / CBT_BLOCK; b++) {
                map[(int) b] = (byte) (changesNumber + 1);
            }
        }

        /** A take: closes the current interval; returns what a backup sees. */
        SourceDevice take() throws IOException {
            changesNumber++;
            long size = Files.size(file);
            CbtMap cbt = new CbtMap(new CbtInfo(size, CBT_BLOCK, map.length, generation, changesNumber), map);
            return new SourceDevice(name, file, size, cbt, identity);
        }

        /** The tracker is re-attached: earlier backups are not comparable. */
        void newGeneration() {
            generation = Uuid.random();
            changesNumber = 0;
            map = new byte[map.length];
        }

        byte[] bytes() throws IOException {
            return Files.readAllBytes(file);
        }
    }

    /** A source over already-taken devices. */
    static SnapshotSource source(SourceDevice... devices) {
        return new SnapshotSource() {
            boolean closed;

            @Override
            public List<SourceDevice> devices() {
                return List.of(devices);
            }

            @Override
            public void checkIntact() {
                if (closed) {
                    throw new IllegalStateException("read after close");
                }
            }

            @Override
            public void close() {
                closed = true;
            }
        };
    }
}
