package org.blksnap.backup.repo;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Appends compressed chunks to pack files of about {@code targetBytes}
 * each, publishing every pack when it is full. Nothing is durable or
 * reachable until {@link Repository#commit} flushes the store and writes
 * an index naming the packs. Thread-safe: workers append in any order.
 */
public final class PackWriter implements AutoCloseable {
    private final ChunkStore store;
    private final Envelope envelope;
    private final long targetBytes;
    private final List<PackFormat.PackEntries> done = new ArrayList<>();
    private ChunkStore.ObjectWriter current;
    private String currentName;
    private List<PackFormat.Entry> currentEntries;
    private long bytes;

    PackWriter(ChunkStore store, Envelope envelope, long targetBytes) {
        this.store = store;
        this.envelope = envelope;
        this.targetBytes = targetBytes;
    }

    /** @return a fresh pack name: random, since packs are immutable and never renamed */
    public static String newName() {
        byte[] r = new byte[16];
        ThreadLocalRandom.current().nextBytes(r);
        return HexFormat.of().formatHex(r);
    }

    /**
     * @param id          the chunk
     * @param frame       its zstd frame (sealed here when the repository is encrypted)
     * @param length      bytes of the frame
     * @param plainLength bytes of plain data
     * @throws IOException if the pack cannot be written
     */
    public synchronized void add(ChunkId id, byte[] frame, int length, int plainLength) throws IOException {
        if (current == null) {
            currentName = newName();
            current = store.writer(ChunkStore.Kind.PACK, currentName);
            current.write(PackFormat.PACK_MAGIC, 0, PackFormat.PACK_MAGIC.length);
            currentEntries = new ArrayList<>();
        }
        byte[] sealed = envelope.sealBlob(currentName, id, frame, length);
        byte[] stored = sealed != null ? sealed : frame;
        int storedLength = sealed != null ? sealed.length : length;
        long offset = current.size();
        current.write(stored, 0, storedLength);
        currentEntries.add(new PackFormat.Entry(id, offset, storedLength, plainLength,
                PackFormat.crc(stored, 0, storedLength)));
        bytes += storedLength;
        if (current.size() >= targetBytes) {
            closePack();
        }
    }

    private void closePack() throws IOException {
        byte[] trailer = PackFormat.packTrailer(envelope.seal(ChunkStore.Kind.PACK, currentName,
                PackFormat.encodeEntries(currentEntries)));
        current.write(trailer, 0, trailer.length);
        current.publish();
        current.close();
        done.add(new PackFormat.PackEntries(currentName, currentEntries));
        current = null;
    }

    /** @return the packs published so far (a pack being filled is not one) */
    public synchronized List<String> published() {
        return done.stream().map(PackFormat.PackEntries::name).toList();
    }

    /** @return bytes of chunk frames appended */
    public synchronized long bytes() {
        return bytes;
    }

    /**
     * Publishes the last pack.
     *
     * @return every pack written and its chunks
     * @throws IOException if it cannot be published
     */
    synchronized List<PackFormat.PackEntries> finish() throws IOException {
        if (current != null) {
            closePack();
        }
        return List.copyOf(done);
    }

    /** Abandons the pack being written (packs already published stay, unreferenced). */
    @Override
    public synchronized void close() throws IOException {
        if (current != null) {
            current.close();
            current = null;
        }
    }
}
