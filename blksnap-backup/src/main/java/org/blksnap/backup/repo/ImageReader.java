package org.blksnap.backup.repo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Random access to one device of a backup, straight from the repository: a
 * byte offset names a chunk of the manifest, the chunk is read from its
 * pack, checked (CRC32C of the stored bytes, the authentication tag when
 * encrypted, the chunk id over the plain data), decompressed and kept in a
 * small least-recently-used cache, so that a client reading sequentially in
 * pieces smaller than a chunk (the kernel's NBD client sends 128 KiB) reads
 * each chunk from the repository once. Safe for concurrent readers.
 *
 * <p>A read that begins where the previous one ended is taken for a
 * sequential reader (cp of a file from a mounted backup, nbdcopy), and the
 * next {@link #READ_AHEAD_CHUNKS} chunks are fetched in the background: the
 * NBD server answers one request after the other on a connection, so
 * without this the fetch, check and decompression of each chunk waited for
 * the previous reply to be sent and the next request to arrive, one CPU idle.
 * A chunk being fetched is fetched once; a reader that needs it waits for it.
 */
public final class ImageReader {
    /** Chunks cached by default: 16 MiB at the default chunk size. */
    public static final int DEFAULT_CACHE_CHUNKS = 64;
    /** Chunks fetched ahead of a sequential reader: 1 MiB at the default chunk size. */
    static final int READ_AHEAD_CHUNKS = 4;

    private final Repository repo;
    private final Manifest.DeviceImage image;
    private final int chunkSize;
    private final Map<ChunkId, byte[]> cache;
    /** What an all-zero chunk reads as; never written to. */
    private final byte[] zeros;
    /** Chunks being fetched, by a reader or ahead of one. */
    private final Map<ChunkId, CompletableFuture<byte[]>> loading = new ConcurrentHashMap<>();
    private final int readAhead;
    /** Where the last read ended: a read starting here is sequential. */
    private volatile long lastEnd = -1;

    /**
     * @param repo        an open repository
     * @param image       the device of a backup of it
     * @param cacheChunks plain chunks kept, at least 1
     */
    public ImageReader(Repository repo, Manifest.DeviceImage image, int cacheChunks) {
        this.repo = Objects.requireNonNull(repo, "repo");
        this.image = Objects.requireNonNull(image, "image");
        if (cacheChunks < 1) {
            throw new IllegalArgumentException("the cache needs at least one chunk: " + cacheChunks);
        }
        this.chunkSize = repo.chunkSize();
        this.zeros = new byte[chunkSize];
        // Never more ahead than the cache holds, or chunks read ahead would push out each other.
        this.readAhead = Math.min(READ_AHEAD_CHUNKS, cacheChunks - 1);
        this.cache = new LinkedHashMap<>(cacheChunks * 2, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<ChunkId, byte[]> eldest) {
                return size() > cacheChunks;
            }
        };
    }

    /** @return the device's size in bytes */
    public long size() {
        return image.sizeBytes();
    }

    /** @return bytes per chunk */
    public int chunkSize() {
        return chunkSize;
    }

    /** @return the device as the backup names it */
    public String deviceName() {
        return image.name();
    }

    /**
     * @param offset a byte of the device
     * @return the index of the chunk holding it
     */
    public int chunkOf(long offset) {
        return Math.toIntExact(offset / chunkSize);
    }

    /**
     * @param chunk a chunk index
     * @return true if the manifest records the chunk as all zero (nothing stored)
     */
    public boolean isZero(int chunk) {
        return image.chunks().get(chunk) == null;
    }

    /** @return chunks of the device */
    public int chunkCount() {
        return image.chunks().size();
    }

    /**
     * Fills {@code dst} from its position to its limit with the device's
     * bytes at {@code offset}.
     *
     * @param offset first byte, inside the device
     * @param dst    where the bytes go; it must not reach past the device's end
     * @throws ChunkException if a chunk of the range is missing or damaged: the
     *                        message names the chunk and its byte range
     * @throws IOException if the repository cannot be read
     */
    public void read(long offset, ByteBuffer dst) throws IOException {
        if (offset < 0 || offset + dst.remaining() > size()) {
            throw new IllegalArgumentException("read of " + dst.remaining() + " bytes at " + offset
                    + " outside the device's " + size());
        }
        if (!dst.hasRemaining()) {
            return;
        }
        boolean sequential = offset == lastEnd || offset == 0;
        long pos = offset;
        while (dst.hasRemaining()) {
            int chunk = chunkOf(pos);
            int within = (int) (pos - (long) chunk * chunkSize);
            int n = Math.min(dst.remaining(), chunkLength(chunk) - within);
            ChunkId id = image.chunks().get(chunk);
            if (id == null) {
                dst.put(zeros, 0, n);
            } else {
                dst.put(plain(chunk, id), within, n);
            }
            pos += n;
        }
        lastEnd = pos;
        if (sequential) {
            readAhead(chunkOf(pos - 1) + 1);
        }
    }

    /** Starts fetching the chunks from {@code first} on that are neither cached nor being fetched. */
    private void readAhead(int first) {
        int end = Math.min(chunkCount(), first + readAhead);
        for (int c = first; c < end; c++) {
            ChunkId id = image.chunks().get(c);
            if (id == null) {
                continue;
            }
            synchronized (cache) {
                if (cache.containsKey(id)) {
                    continue;
                }
            }
            CompletableFuture<byte[]> f = new CompletableFuture<>();
            if (loading.putIfAbsent(id, f) != null) {
                continue;
            }
            int chunk = c;
            // A failure is not reported here: the reader that needs the chunk fetches it again and is told.
            Thread.ofVirtual().name("image-read-ahead").start(() -> load(chunk, id, f));
        }
    }

    /** @return true if the chunk is in the cache (for tests) */
    boolean cached(int chunk) {
        ChunkId id = image.chunks().get(chunk);
        synchronized (cache) {
            return id != null && cache.containsKey(id);
        }
    }

    /** Waits until no chunk is being fetched (for tests). */
    void awaitFetches() {
        for (CompletableFuture<byte[]> f : loading.values()) {
            f.exceptionally(e -> null).join();
        }
    }

    private int chunkLength(int chunk) {
        return (int) Math.min(chunkSize, size() - (long) chunk * chunkSize);
    }

    private byte[] plain(int chunk, ChunkId id) throws IOException {
        synchronized (cache) {
            byte[] hit = cache.get(id);
            if (hit != null) {
                return hit;
            }
        }
        CompletableFuture<byte[]> mine = new CompletableFuture<>();
        CompletableFuture<byte[]> other = loading.putIfAbsent(id, mine);
        if (other == null) {
            try {
                byte[] buf = fetchChecked(chunk, id);
                synchronized (cache) {
                    cache.put(id, buf);
                }
                mine.complete(buf);
                return buf;
            } catch (IOException | RuntimeException e) {
                mine.completeExceptionally(e);
                throw e;
            } finally {
                loading.remove(id, mine);
            }
        }
        try {
            return other.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof ChunkException c) {
                throw new ChunkException(c.chunkId(), c.getMessage());
            }
            // A read ahead that failed on the repository: this read tries again, and says why if it fails too.
            return fetchChecked(chunk, id);
        }
    }

    /** Fetches a chunk into the cache and completes {@code f} with it, or with why it could not. */
    private void load(int chunk, ChunkId id, CompletableFuture<byte[]> f) {
        try {
            byte[] buf = fetchChecked(chunk, id);
            synchronized (cache) {
                cache.put(id, buf);
            }
            f.complete(buf);
        } catch (IOException | RuntimeException e) {
            f.completeExceptionally(e);
        } finally {
            loading.remove(id, f);
        }
    }

    private byte[] fetchChecked(int chunk, ChunkId id) throws IOException {
        byte[] buf = new byte[chunkSize];
        long start = (long) chunk * chunkSize;
        String range = "bytes " + start + ".." + (start + chunkLength(chunk) - 1) + " of " + image.name();
        int n;
        try {
            n = repo.readChunk(id, buf);
        } catch (ChunkException e) {
            throw new ChunkException(id, range + ": " + e.getMessage());
        }
        if (n != chunkLength(chunk)) {
            throw new ChunkException(id, range + ": chunk " + id + " holds " + n + " bytes, not "
                    + chunkLength(chunk));
        }
        if (!repo.chunkId(buf, n).equals(id)) {
            throw new ChunkException(id, range + ": chunk " + id + " does not hold the data its id names");
        }
        return buf;
    }
}
