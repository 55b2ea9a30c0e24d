package org.blksnap.bench.host;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

import org.blksnap.api.CbtInfo;
import org.blksnap.api.CbtMap;
import org.blksnap.api.Uuid;
import org.blksnap.backup.engine.SourceDevice;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;

/**
 * An image file standing in for a device, with a change tracker kept next
 * to it (IMAGE.cbt, IMAGE.cbtmap) that works as the kernel's does: every
 * write stamps its blocks with the next changes number, a take closes the
 * interval. The host benchmark changes images only through this class, so
 * the tracker knows exactly what changed.
 */
final class TrackedImage {
    /** Bytes per tracked block: the module's default (tracking_block_minimum_shift 16). */
    static final int CBT_BLOCK = 64 << 10;
    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

    /**
     * The tracker's state.
     *
     * @param generation    its generation id
     * @param changesNumber takes so far
     */
    record State(String generation, int changesNumber) {
    }

    final Path image;
    final long size;
    private State state;
    private final byte[] map;

    private TrackedImage(Path image, State state, byte[] map) throws IOException {
        this.image = image;
        this.size = Files.size(image);
        this.state = state;
        this.map = map;
    }

    private static Path sidecar(Path image, String suffix) {
        return image.resolveSibling(image.getFileName() + suffix);
    }

    /** Starts tracking an image just written: a new generation, nothing changed. */
    static TrackedImage track(Path image) throws IOException {
        long size = Files.size(image);
        TrackedImage t = new TrackedImage(image, new State(Uuid.random().toString(), 0),
                new byte[Math.toIntExact(Math.ceilDiv(size, CBT_BLOCK))]);
        t.save();
        return t;
    }

    static TrackedImage open(Path image) throws IOException {
        State s = JSON.readValue(sidecar(image, ".cbt").toFile(), State.class);
        return new TrackedImage(image, s, Files.readAllBytes(sidecar(image, ".cbtmap")));
    }

    private void save() throws IOException {
        JSON.writeValue(sidecar(image, ".cbt").toFile(), state);
        Files.write(sidecar(image, ".cbtmap"), map);
    }

    /** Writes bytes in place and stamps their blocks, as a write to a tracked device would. */
    void write(FileChannel ch, long offset, byte[] data, int length) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(data, 0, length);
        while (b.hasRemaining()) {
            ch.write(b, offset + b.position());
        }
        for (long blk = offset / CBT_BLOCK; blk <= (offset + length - 1) / CBT_BLOCK; blk++) {
            map[(int) blk] = (byte) (state.changesNumber() + 1);
        }
    }

    FileChannel openForWrite() throws IOException {
        return FileChannel.open(image, StandardOpenOption.WRITE);
    }

    /** Saves the map after writes. */
    void close() throws IOException {
        save();
    }

    /** A take: closes the current interval and returns what the backup engine sees. */
    SourceDevice take(String name) throws IOException {
        state = new State(state.generation(), state.changesNumber() + 1);
        save();
        CbtMap cbt = new CbtMap(new CbtInfo(size, CBT_BLOCK, map.length, Uuid.parse(state.generation()),
                state.changesNumber()), map.clone());
        return new SourceDevice(name, image, size, cbt);
    }

    /**
     * Fills a buffer half compressible: each 4 KiB block is 2 KiB of noise
     * and 2 KiB of zeros, as fio's buffer_compress_percentage=50 does.
     */
    static void halfCompressible(Random r, byte[] buf, int length) {
        byte[] noise = new byte[2048];
        for (int i = 0; i < length; i += 4096) {
            r.nextBytes(noise);
            int n = Math.min(2048, length - i);
            System.arraycopy(noise, 0, buf, i, n);
            java.util.Arrays.fill(buf, i + n, Math.min(length, i + 4096), (byte) 0);
        }
    }
}
