package org.blksnap.backup.repo;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;

import org.blksnap.backup.repo.ChunkStore.Kind;
import org.blksnap.backup.repo.ChunkStore.LockMode;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * A backup repository on a {@link ChunkStore}, held under its lock until
 * closed: chunks (content-addressed, compressed, deduplicated) and manifests.
 */
public final class Repository implements AutoCloseable {
    /** Default bytes per chunk. */
    public static final int DEFAULT_CHUNK_SIZE = 1 << 20;
    /** Smallest and largest chunk size accepted. */
    public static final int MIN_CHUNK_SIZE = 64 << 10;
    /** Largest chunk size accepted. */
    public static final int MAX_CHUNK_SIZE = 64 << 20;

    private static final Pattern CHUNK_ID = Pattern.compile("[0-9a-f]{64}");
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final ChunkStore store;
    private final Config config;
    private final ChunkStore.Lock lock;
    private final LockMode mode;

    /**
     * The repository's description.
     *
     * @param format    repository format
     * @param chunkSize bytes per chunk
     * @param compression chunk compression, "zstd"
     * @param created   ISO-8601 instant
     */
    public record Config(int format, int chunkSize, String compression, String created) {
    }

    private Repository(ChunkStore store, Config config, ChunkStore.Lock lock, LockMode mode) {
        this.store = store;
        this.config = config;
        this.lock = lock;
        this.mode = mode;
    }

    /**
     * Opens an existing repository.
     *
     * @param store where it is
     * @param mode  shared to read, exclusive to write
     * @return the open repository, locked
     * @throws RepositoryException if it is not a repository, is damaged or locked
     * @throws IOException if it cannot be read
     */
    public static Repository open(ChunkStore store, LockMode mode) throws IOException {
        if (!store.exists()) {
            throw new RepositoryException(store.location() + " is not a blksnap backup repository (no "
                    + LocalDirectoryStore.CONFIG_FILE + "; 'blksnap backup create' makes one)");
        }
        ChunkStore.Lock lock = store.lock(mode);
        try {
            Config config = readConfig(store);
            if (mode == LockMode.EXCLUSIVE) {
                store.removeLeftovers();
            }
            return new Repository(store, config, lock, mode);
        } catch (IOException | RuntimeException e) {
            closeQuietly(lock, e);
            throw e;
        }
    }

    /**
     * Opens a repository for writing, creating it when the store is new.
     *
     * @param store     where it is
     * @param chunkSize bytes per chunk for a new repository
     * @return the open repository, locked exclusively
     * @throws IOException if it cannot be created or opened
     */
    public static Repository openOrCreate(ChunkStore store, int chunkSize) throws IOException {
        if (!store.exists()) {
            if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE || Integer.bitCount(chunkSize) != 1) {
                throw new IllegalArgumentException("chunk size must be a power of two between 64K and 64M: "
                        + chunkSize);
            }
            store.create();
            Config c = new Config(1, chunkSize, "zstd", Instant.now().toString());
            byte[] bytes = JSON.writeValueAsBytes(c);
            ChunkStore.Lock lock = store.lock(LockMode.EXCLUSIVE);
            try {
                if (!store.exists()) {
                    store.put(Kind.CONFIG, LocalDirectoryStore.CONFIG_FILE, bytes, bytes.length);
                }
            } finally {
                lock.close();
            }
        }
        return open(store, LockMode.EXCLUSIVE);
    }

    private static Config readConfig(ChunkStore store) throws IOException {
        byte[] bytes = store.get(Kind.CONFIG, LocalDirectoryStore.CONFIG_FILE);
        Config c;
        try {
            c = JSON.readValue(bytes, Config.class);
        } catch (JsonProcessingException e) {
            throw new RepositoryException(store.location() + ": " + LocalDirectoryStore.CONFIG_FILE
                    + " is damaged: " + e.getOriginalMessage());
        }
        if (c.format() != 1 || !"zstd".equals(c.compression()) || c.chunkSize() < MIN_CHUNK_SIZE
                || c.chunkSize() > MAX_CHUNK_SIZE) {
            throw new RepositoryException(store.location() + ": unsupported repository (format " + c.format()
                    + ", compression " + c.compression() + ", chunk size " + c.chunkSize() + ")");
        }
        return c;
    }

    /** @return the store */
    public ChunkStore store() {
        return store;
    }

    /** @return the repository's description */
    public Config config() {
        return config;
    }

    /** @return bytes per chunk */
    public int chunkSize() {
        return config.chunkSize();
    }

    /** @return where the repository is, for messages */
    public String location() {
        return store.location();
    }

    // ---- chunks

    /**
     * @param id chunk id
     * @return true if the chunk is stored
     * @throws IOException if the store cannot be asked
     */
    public boolean hasChunk(String id) throws IOException {
        return store.has(Kind.CHUNK, id);
    }

    /**
     * Stores an encoded chunk durably.
     *
     * @param id      the chunk's id
     * @param encoded from {@link ChunkCodec#encode}
     * @throws IOException if it cannot be stored
     */
    public void putChunk(String id, ChunkCodec.Encoded encoded) throws IOException {
        requireWriter();
        store.put(Kind.CHUNK, id, encoded.bytes(), encoded.length());
    }

    /**
     * @param id chunk id
     * @return the stored file
     * @throws ChunkException if it is missing
     * @throws IOException if it cannot be read
     */
    public byte[] chunkFile(String id) throws IOException {
        try {
            return store.get(Kind.CHUNK, id);
        } catch (NoSuchFileException e) {
            throw new ChunkException(id, "chunk " + id + " is missing from " + location());
        }
    }

    /**
     * Reads, decompresses and checks a chunk.
     *
     * @param id  chunk id
     * @param dst at least a chunk's size
     * @return the plain length
     * @throws ChunkException if it is missing or damaged
     * @throws IOException if it cannot be read
     */
    public int readChunk(String id, byte[] dst) throws IOException {
        return ChunkCodec.decode(id, chunkFile(id), dst);
    }

    /**
     * @return every stored chunk id
     * @throws IOException if the store cannot be listed
     */
    public List<String> chunkIds() throws IOException {
        return store.list(Kind.CHUNK);
    }

    /**
     * Removes a chunk (garbage collection only).
     *
     * @param id chunk id
     * @throws IOException if it cannot be removed
     */
    public void deleteChunk(String id) throws IOException {
        requireWriter();
        store.delete(Kind.CHUNK, id);
    }

    // ---- manifests

    /**
     * @return every backup, oldest first
     * @throws RepositoryException if a manifest is damaged (named in the message)
     * @throws IOException if the store cannot be read
     */
    public List<Manifest> manifests() throws IOException {
        List<Manifest> all = new ArrayList<>();
        for (String name : store.list(Kind.MANIFEST)) {
            all.add(manifest(name));
        }
        all.sort(Comparator.comparing(Manifest::started).thenComparing(Manifest::id));
        return all;
    }

    /**
     * @param id a backup id, or "latest"
     * @return its manifest
     * @throws RepositoryException if there is no such backup or it is damaged
     * @throws IOException if the store cannot be read
     */
    public Manifest manifest(String id) throws IOException {
        if ("latest".equals(id)) {
            List<Manifest> all = manifests();
            if (all.isEmpty()) {
                throw new RepositoryException(location() + " holds no backup yet");
            }
            return all.getLast();
        }
        byte[] bytes;
        try {
            bytes = store.get(Kind.MANIFEST, id);
        } catch (NoSuchFileException | IllegalArgumentException e) {
            throw new RepositoryException("no backup '" + id + "' in " + location()
                    + " ('blksnap backup list' shows them)");
        }
        Manifest m;
        try {
            m = JSON.readValue(bytes, Manifest.class);
        } catch (IOException | RuntimeException e) {
            throw new RepositoryException("backup " + id + ": its manifest is damaged (" + firstLine(e) + ")");
        }
        String problem = problem(m, id);
        if (problem != null) {
            throw new RepositoryException("backup " + id + ": its manifest is damaged (" + problem + ")");
        }
        return m;
    }

    private static String problem(Manifest m, String id) {
        if (m.format() != Manifest.FORMAT) {
            return "format " + m.format() + ", expected " + Manifest.FORMAT;
        }
        if (!id.equals(m.id())) {
            return "it says it is backup " + m.id();
        }
        if (m.chunkSize() < MIN_CHUNK_SIZE || m.chunkSize() > MAX_CHUNK_SIZE || m.started() == null) {
            return "bad chunk size or start time";
        }
        try {
            m.startedAt();
        } catch (RuntimeException e) {
            return "bad start time " + m.started();
        }
        if (m.devices().isEmpty()) {
            return "no device";
        }
        for (Manifest.DeviceImage d : m.devices()) {
            if (d.sizeBytes() <= 0 || d.chunks().size() != Math.ceilDiv(d.sizeBytes(), m.chunkSize())) {
                return d.name() + ": " + d.chunks().size() + " chunks do not cover " + d.sizeBytes() + " bytes";
            }
            for (String c : d.chunks()) {
                if (c != null && !CHUNK_ID.matcher(c).matches()) {
                    return d.name() + ": bad chunk id '" + c + "'";
                }
            }
        }
        return null;
    }

    /**
     * Writes a manifest durably; call only after all its chunks are durable.
     *
     * @param m the manifest
     * @throws IOException if it cannot be written
     */
    public void putManifest(Manifest m) throws IOException {
        requireWriter();
        String problem = problem(m, m.id());
        if (problem != null) {
            throw new IllegalStateException("refusing to write an invalid manifest: " + problem);
        }
        byte[] bytes = JSON.writeValueAsBytes(m);
        store.flush();
        store.put(Kind.MANIFEST, m.id(), bytes, bytes.length);
    }

    /**
     * Removes a manifest (prune).
     *
     * @param id backup id
     * @throws IOException if it cannot be removed
     */
    public void deleteManifest(String id) throws IOException {
        requireWriter();
        store.delete(Kind.MANIFEST, id);
    }

    /**
     * @param m a manifest
     * @return its JSON text
     */
    public static String toJson(Object m) {
        try {
            return JSON.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private void requireWriter() {
        if (mode != LockMode.EXCLUSIVE) {
            throw new IllegalStateException("repository opened for reading only");
        }
    }

    private static String firstLine(Throwable e) {
        String m = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
        if (m == null) {
            return e.getClass().getSimpleName();
        }
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    private static void closeQuietly(ChunkStore.Lock c, Throwable primary) {
        try {
            c.close();
        } catch (IOException e) {
            primary.addSuppressed(e);
        }
    }

    @Override
    public void close() throws IOException {
        lock.close();
    }
}
