package org.blksnap.backup.repo;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.blksnap.backup.repo.ChunkStore.Kind;
import org.blksnap.backup.repo.ChunkStore.LockMode;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * A backup repository (format 2) on a {@link ChunkStore}, held under its
 * lock until closed: chunks packed into pack files, index objects that say
 * where each chunk is, and per backup a binary manifest and a summary.
 *
 * <p>A backup is committed in this order: its packs are flushed (one sync
 * pass), then its index object, its manifest and its summary are each put
 * durably. The summary is the commit point: a backup without one is
 * invisible and its objects are removed or collected by the next process
 * that holds the repository alone. Deletion goes the other way: summary,
 * manifest, then (garbage collection) the copies of live chunks out of
 * partly unused packs, the index that names them, then the old index
 * entries, then packs.
 */
public final class Repository implements AutoCloseable {
    /** Default bytes per chunk: four default CBT blocks (64 KiB). */
    public static final int DEFAULT_CHUNK_SIZE = 256 << 10;
    /** Smallest chunk size accepted. */
    public static final int MIN_CHUNK_SIZE = 64 << 10;
    /** Largest chunk size accepted. */
    public static final int MAX_CHUNK_SIZE = 16 << 20;
    /** Default bytes per pack file. */
    public static final long DEFAULT_PACK_SIZE = 32L << 20;
    /** The repository format this code writes and reads. */
    public static final int FORMAT = 2;

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final ChunkStore store;
    private final Config config;
    private final Envelope envelope;
    private final ChunkStore.Lock lock;
    private final LockMode mode;
    private ChunkIndex index;

    /**
     * The repository's description.
     *
     * @param format      repository format, {@link #FORMAT}
     * @param chunkSize   bytes per chunk
     * @param compression chunk compression, "zstd"
     * @param packSize    bytes per pack file (about)
     * @param created     ISO-8601 instant
     * @param encryption  {@link Envelope.Encrypted#SCHEME}, or {@link Envelope.Plain#SCHEME} (also when absent:
     *                    repositories from before encryption)
     */
    public record Config(int format, int chunkSize, String compression, long packSize, String created,
            String encryption) {
        /** @return true if the objects are encrypted */
        public boolean encrypted() {
            return Envelope.Encrypted.SCHEME.equals(encryption);
        }
    }

    /**
     * How a new repository is made.
     *
     * @param chunkSize bytes per chunk
     * @param packSize  bytes per pack file (at least a chunk)
     * @param encrypted true to encrypt every object (the secret then comes from the {@link Secret.Source})
     * @param cost      Argon2id cost of a password key
     */
    public record NewRepository(int chunkSize, long packSize, boolean encrypted, KeyRing.Argon2 cost) {
        /** Checks the sizes. */
        public NewRepository {
            if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE || Integer.bitCount(chunkSize) != 1) {
                throw new IllegalArgumentException("chunk size must be a power of two between 64K and 16M: "
                        + chunkSize);
            }
            if (packSize < chunkSize) {
                throw new IllegalArgumentException("pack size must be at least the chunk size: " + packSize);
            }
            if (cost == null) {
                cost = KeyRing.Argon2.DEFAULT;
            }
        }

        /**
         * @param chunkSize bytes per chunk
         * @return an unencrypted repository with the default pack size
         */
        public static NewRepository plain(int chunkSize) {
            return new NewRepository(chunkSize, DEFAULT_PACK_SIZE, false, null);
        }

        /**
         * @param chunkSize bytes per chunk
         * @return an encrypted repository with the default pack size and Argon2id cost
         */
        public static NewRepository encrypted(int chunkSize) {
            return new NewRepository(chunkSize, DEFAULT_PACK_SIZE, true, null);
        }
    }

    /**
     * The visible backups.
     *
     * @param backups  oldest first
     * @param warnings one line per summary that could not be read (skipped)
     */
    public record Listing(List<BackupSummary> backups, List<String> warnings) {
        /** Copies the lists. */
        public Listing {
            backups = List.copyOf(backups);
            warnings = List.copyOf(warnings);
        }
    }

    private Repository(ChunkStore store, Config config, Envelope envelope, ChunkStore.Lock lock, LockMode mode) {
        this.store = store;
        this.config = config;
        this.envelope = envelope;
        this.lock = lock;
        this.mode = mode;
    }

    /**
     * Opens an existing repository without waiting for its lock.
     *
     * @param store where it is
     * @param mode  shared to read or back up, exclusive to delete
     * @return the open repository, locked
     * @throws IOException if it is not a repository, is damaged, locked or unreadable
     */
    public static Repository open(ChunkStore store, LockMode mode) throws IOException {
        return open(store, mode, Duration.ZERO);
    }

    /**
     * Opens an existing repository. The exclusive holder first removes
     * what interrupted commands left.
     *
     * @param store    where it is
     * @param mode     shared to read or back up, exclusive to delete
     * @param lockWait how long to wait for an incompatible holder
     * @return the open repository, locked
     * @throws RepositoryBusyException if the lock stays held
     * @throws IOException if it is not a repository, is damaged or unreadable
     */
    public static Repository open(ChunkStore store, LockMode mode, Duration lockWait) throws IOException {
        return open(store, mode, lockWait, Secret.Source.NONE);
    }

    /**
     * Opens an existing repository, encrypted or not. The exclusive holder
     * first removes what interrupted commands left.
     *
     * @param store    where it is
     * @param mode     shared to read or back up, exclusive to delete
     * @param lockWait how long to wait for an incompatible holder
     * @param secrets  asked for the password or key file if the repository is encrypted
     * @return the open repository, locked
     * @throws WrongKeyException if the secret opens no key
     * @throws RepositoryBusyException if the lock stays held
     * @throws IOException if it is not a repository, is damaged or unreadable
     */
    public static Repository open(ChunkStore store, LockMode mode, Duration lockWait, Secret.Source secrets)
            throws IOException {
        return open(store, mode, lockWait, secrets, null);
    }

    private static Repository open(ChunkStore store, LockMode mode, Duration lockWait, Secret.Source secrets,
            Envelope known) throws IOException {
        if (!store.exists()) {
            throw new RepositoryException(store.location() + " is not a blksnap backup repository (no "
                    + LocalDirectoryStore.CONFIG_FILE + "; 'blksnap backup create' makes one)");
        }
        ChunkStore.Lock lock = store.lock(mode, lockWait);
        try {
            Config c = readConfig(store);
            Envelope e = known != null ? known : envelope(store, c, secrets);
            Repository r = new Repository(store, c, e, lock, mode);
            if (mode == LockMode.EXCLUSIVE) {
                r.removeLeftovers();
            }
            return r;
        } catch (IOException | RuntimeException e) {
            closeQuietly(lock, e);
            throw e;
        }
    }

    /**
     * Opens a repository to back up into, creating it when the store is
     * new. Held shared, so list, restore, verify and other creates run
     * meanwhile; when no one else holds it, leftovers of interrupted
     * commands are removed first.
     *
     * @param store     where it is
     * @param chunkSize bytes per chunk for a new repository
     * @param lockWait  how long to wait while a prune or forget runs
     * @return the open repository, locked shared
     * @throws IOException if it cannot be created or opened
     */
    public static Repository openForBackup(ChunkStore store, int chunkSize, Duration lockWait) throws IOException {
        return openForBackup(store, chunkSize, DEFAULT_PACK_SIZE, lockWait);
    }

    /**
     * {@link #openForBackup(ChunkStore, int, Duration)} with the pack size of a new repository.
     *
     * @param store     where it is
     * @param chunkSize bytes per chunk for a new repository
     * @param packSize  bytes per pack file for a new repository (at least a chunk)
     * @param lockWait  how long to wait while a prune or forget runs
     * @return the open repository, locked shared
     * @throws IOException if it cannot be created or opened
     */
    public static Repository openForBackup(ChunkStore store, int chunkSize, long packSize, Duration lockWait)
            throws IOException {
        return openForBackup(store, new NewRepository(chunkSize, packSize, false, null), lockWait, Secret.Source.NONE);
    }

    /**
     * Opens a repository to add backups to, creating it first if the store
     * holds none (with a random master key wrapped by the secret when
     * encrypted); an existing one keeps its own layout and encryption.
     *
     * @param store    where it is
     * @param created  how a new repository is made
     * @param lockWait how long to wait while a prune or forget runs
     * @param secrets  asked for the password or key file if the repository is (to be) encrypted
     * @return the open repository, locked shared
     * @throws WrongKeyException if the secret opens no key
     * @throws IOException if it cannot be created or opened
     */
    public static Repository openForBackup(ChunkStore store, NewRepository created, Duration lockWait,
            Secret.Source secrets) throws IOException {
        Envelope made = null;
        if (!store.exists()) {
            // Asked before anything is written: no secret, no repository.
            Secret secret = created.encrypted() ? secrets.get() : null;
            store.create();
            ChunkStore.Lock l = store.lock(LockMode.EXCLUSIVE, lockWait);
            try {
                if (!store.exists()) {
                    String scheme = Envelope.Plain.SCHEME;
                    if (secret != null) {
                        // The keys first: a config is only ever visible with the keys that open it.
                        made = new Envelope.Encrypted(KeyRing.create(store, secret, created.cost()));
                        scheme = Envelope.Encrypted.SCHEME;
                    }
                    Config c = new Config(FORMAT, created.chunkSize(), "zstd", created.packSize(),
                            Instant.now().toString(), scheme);
                    byte[] bytes = JSON.writeValueAsBytes(c);
                    store.put(Kind.CONFIG, LocalDirectoryStore.CONFIG_FILE, bytes, bytes.length);
                }
            } finally {
                l.close();
            }
        }
        try (Repository alone = open(store, LockMode.EXCLUSIVE, Duration.ZERO, secrets, made)) {
            made = alone.envelope;
        } catch (RepositoryBusyException e) {
            // Someone else holds it: leftovers wait for a process that is alone.
        }
        return open(store, LockMode.SHARED, lockWait, secrets, made);
    }

    /**
     * {@link #openForBackup} without waiting for the lock.
     *
     * @param store     where it is
     * @param chunkSize bytes per chunk for a new repository
     * @return the open repository, locked shared
     * @throws IOException if it cannot be created or opened
     */
    public static Repository openOrCreate(ChunkStore store, int chunkSize) throws IOException {
        return openForBackup(store, chunkSize, Duration.ZERO);
    }

    /**
     * The repository a {@link Format1Migration} writes into before its
     * config exists: unencrypted, unlocked here (the migration holds the
     * lock), its objects invisible until the config is put.
     *
     * @param store  the format 1 repository's directory
     * @param config the format 2 config the migration will put
     * @return a repository to write packs, the index and backups with
     */
    static Repository migrationTarget(ChunkStore store, Config config) {
        return new Repository(store, config, new Envelope.Plain(), () -> { }, LockMode.EXCLUSIVE);
    }

    /**
     * @param c a config
     * @return its JSON, as {@link #readConfig} reads it
     * @throws JsonProcessingException never for a Config
     */
    static byte[] configBytes(Config c) throws JsonProcessingException {
        return JSON.writeValueAsBytes(c);
    }

    private static Envelope envelope(ChunkStore store, Config c, Secret.Source secrets) throws IOException {
        if (c.encrypted()) {
            return new Envelope.Encrypted(KeyRing.unlock(store, secrets.get()).master());
        }
        if (hasKeys(store)) {
            // A config rewritten to "none" must not make the engine trust what it reads unauthenticated.
            throw new RepositoryException(store.location() + ": " + LocalDirectoryStore.CONFIG_FILE
                    + " says the repository is not encrypted, but it holds keys (" + KeyRing.OBJECT
                    + "): the config is damaged or was tampered with");
        }
        return new Envelope.Plain();
    }

    private static boolean hasKeys(ChunkStore store) throws IOException {
        return store.size(Kind.CONFIG, KeyRing.OBJECT) >= 0;
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
        if (c.format() == Format1Migration.FORMAT) {
            throw new RepositoryException(store.location() + " is a format 1 repository (one file per chunk, "
                    + "JSON manifests): convert it in place, keeping every backup, with 'blksnap backup migrate "
                    + "--repo " + store.location() + "'");
        }
        if (c.encryption() != null && !c.encrypted() && !Envelope.Plain.SCHEME.equals(c.encryption())) {
            throw new RepositoryException(store.location() + ": unsupported encryption '" + c.encryption() + "'");
        }
        if (c.format() != FORMAT || !"zstd".equals(c.compression()) || c.chunkSize() < MIN_CHUNK_SIZE
                || c.chunkSize() > MAX_CHUNK_SIZE || c.packSize() < c.chunkSize()) {
            throw new RepositoryException(store.location() + ": unsupported repository (format " + c.format()
                    + ", compression " + c.compression() + ", chunk size " + c.chunkSize() + ", pack size "
                    + c.packSize() + ")");
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

    /** @return what is done to objects between the engine and the store */
    public Envelope envelope() {
        return envelope;
    }

    /**
     * @param data   plain chunk data
     * @param length bytes of it
     * @return its id in this repository (SHA-256, or HMAC-SHA-256 when encrypted)
     */
    public ChunkId chunkId(byte[] data, int length) {
        return envelope.chunkId(data, length);
    }

    /**
     * Stores an index object, sealed when the repository is encrypted.
     *
     * @param packs packs and their chunks
     * @throws IOException if it cannot be stored
     */
    public void putIndex(List<PackFormat.PackEntries> packs) throws IOException {
        String name = PackWriter.newName();
        byte[] idx = envelope.seal(Kind.INDEX, name, PackFormat.encodeIndex(packs));
        store.put(Kind.INDEX, name, idx, idx.length);
    }

    /**
     * @param name an index object
     * @return the packs it describes
     * @throws java.nio.file.NoSuchFileException if it is gone
     * @throws RepositoryException if it is damaged
     * @throws IOException if it cannot be read
     */
    public List<PackFormat.PackEntries> readIndex(String name) throws IOException {
        return readIndex(store, envelope, name);
    }

    static List<PackFormat.PackEntries> readIndex(ChunkStore store, Envelope envelope, String name)
            throws IOException {
        byte[] b = envelope.open(Kind.INDEX, name, store.get(Kind.INDEX, name), "index " + name);
        return PackFormat.decodeIndex(b, name);
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
     * @return every chunk and where it is, read on first use
     * @throws RepositoryException if an index object is damaged
     * @throws IOException if the store cannot be read
     */
    public synchronized ChunkIndex index() throws IOException {
        if (index == null) {
            index = new ChunkIndex().refresh(store, envelope);
        }
        return index;
    }

    /** Reads the index objects again at the next {@link #index} (after a garbage collection replaced them). */
    public synchronized void reloadIndex() {
        index = null;
    }

    /** @return a writer for the packs of one backup */
    public PackWriter newPackWriter() {
        return new PackWriter(store, envelope, config.packSize());
    }

    private static final ThreadLocal<byte[]> FRAME = ThreadLocal.withInitial(() -> new byte[0]);
    private static final ThreadLocal<byte[]> SEALED = ThreadLocal.withInitial(() -> new byte[0]);

    /**
     * Reads, checks (CRC32C) and decompresses a chunk.
     *
     * @param id  chunk id
     * @param dst at least a chunk's size
     * @return the plain length
     * @throws ChunkException if it is missing or damaged
     * @throws IOException if it cannot be read
     */
    public int readChunk(ChunkId id, byte[] dst) throws IOException {
        ChunkIndex.Location loc = index().get(id);
        if (loc == null) {
            throw new ChunkException(id, "chunk " + id + " is missing from " + location() + " (no index names it)");
        }
        if (loc.plainLength() > dst.length) {
            throw new ChunkException(id, "chunk " + id + " claims " + loc.plainLength() + " bytes");
        }
        byte[] stored = storedBuffer(loc.length());
        try {
            store.read(Kind.PACK, loc.pack(), loc.offset(), stored, 0, loc.length());
        } catch (NoSuchFileException e) {
            throw new ChunkException(id, "chunk " + id + ": its pack " + loc.pack() + " is missing from "
                    + location());
        } catch (java.io.EOFException e) {
            throw new ChunkException(id, "chunk " + id + ": its pack " + loc.pack() + " is cut short");
        }
        return decode(id, loc, stored, dst);
    }

    /** @return the calling thread's buffer for a chunk's stored bytes (the frame's own if not encrypted) */
    private byte[] storedBuffer(int length) {
        byte[] frame = FRAME.get();
        if (frame.length < length) {
            frame = new byte[length];
            FRAME.set(frame);
        }
        if (envelope instanceof Envelope.Plain) {
            return frame;
        }
        byte[] stored = SEALED.get();
        if (stored.length < length) {
            stored = new byte[length];
            SEALED.set(stored);
        }
        return stored;
    }

    /** Checks, opens and decompresses stored bytes held at the start of {@code stored}. */
    private int decode(ChunkId id, ChunkIndex.Location loc, byte[] stored, byte[] dst) throws ChunkException {
        ChunkCodec.checkStored(id, loc, stored);
        byte[] frame = FRAME.get();
        int n = envelope.openBlob(loc.pack(), id, stored, loc.length(), frame);
        ChunkCodec.decompress(id, loc, frame, n, dst);
        return loc.plainLength();
    }

    /** What a run's reader is told, chunk by chunk, on the thread that reads the run. */
    public interface RunSink {
        /**
         * @param w     the chunk
         * @param plain its checked plain bytes (valid only during the call)
         * @param n     how many
         * @throws IOException if the reader fails; the run stops
         */
        void chunk(PackRuns.Wanted w, byte[] plain, int n) throws IOException;

        /**
         * @param w the chunk
         * @param e why it cannot be read (missing pack, damage)
         * @throws IOException to stop the run (a reader that does not go on past damage)
         */
        void damaged(PackRuns.Wanted w, ChunkException e) throws IOException;
    }

    /**
     * Reads a run of chunks with one request to the store, then checks and
     * decompresses each, in the run's order. If the request fails (the pack
     * missing or cut short, or the store's own retries exhausted), each chunk
     * is read on its own, so that what can be read is, and each chunk that
     * cannot is named with its own reason, as {@link #readChunk} names it.
     *
     * @param run   from {@link PackRuns}
     * @param buf   at least {@code run.length()} bytes, for the run's stored bytes
     * @param plain at least a chunk's size, for one chunk's plain bytes
     * @param sink  told about each chunk
     * @throws IOException if the sink fails, or the store fails for a single chunk too
     */
    public void readRun(PackRuns.Run run, byte[] buf, byte[] plain, RunSink sink) throws IOException {
        // A run too long for the buffer is one chunk bigger than a run may be: read on its own.
        boolean whole = run.length() <= buf.length;
        if (whole) {
            try {
                store.read(Kind.PACK, run.pack(), run.offset(), buf, 0, run.length());
            } catch (java.io.InterruptedIOException e) {
                throw e;
            } catch (IOException e) {
                whole = false;
            }
        }
        for (PackRuns.Wanted w : run.chunks()) {
            int n;
            try {
                if (whole) {
                    ChunkIndex.Location loc = w.loc();
                    if (loc.plainLength() > plain.length) {
                        throw new ChunkException(w.id(), "chunk " + w.id() + " claims " + loc.plainLength()
                                + " bytes");
                    }
                    byte[] stored = storedBuffer(loc.length());
                    System.arraycopy(buf, Math.toIntExact(loc.offset() - run.offset()), stored, 0, loc.length());
                    n = decode(w.id(), loc, stored, plain);
                } else {
                    n = readChunk(w.id(), plain);
                }
            } catch (ChunkException e) {
                sink.damaged(w, e);
                continue;
            }
            sink.chunk(w, plain, n);
        }
    }

    /** What {@link #copyRun} hands over, chunk by chunk. */
    public interface FrameSink {
        /**
         * @param w      the chunk
         * @param frame  its zstd frame as stored, opened when the repository is encrypted (valid only during the
         *               call)
         * @param length bytes of the frame
         * @throws IOException if the copy fails; the run stops
         */
        void frame(PackRuns.Wanted w, byte[] frame, int length) throws IOException;
    }

    /**
     * Reads a run of chunks to copy them into another pack (a repack):
     * each chunk's stored bytes are checked against their CRC32C, opened
     * (an encrypted blob is authenticated with its old pack's name and must
     * be sealed again under the new one's), decompressed and hashed, and
     * its id compared, so that only a chunk proven whole is copied; the
     * frame itself is handed over as stored, not recompressed.
     *
     * @param run   from {@link PackRuns}
     * @param buf   at least {@code run.length()} bytes
     * @param plain at least a chunk's size
     * @param sink  told about each chunk
     * @throws ChunkException at the first chunk that is damaged (nothing of it is handed over)
     * @throws RepositoryException if the pack is missing or cut short
     * @throws IOException if the store or the sink fails
     */
    public void copyRun(PackRuns.Run run, byte[] buf, byte[] plain, FrameSink sink) throws IOException {
        try {
            store.read(Kind.PACK, run.pack(), run.offset(), buf, 0, run.length());
        } catch (NoSuchFileException e) {
            throw new RepositoryException("pack " + run.pack() + " is missing from " + location());
        } catch (java.io.EOFException e) {
            throw new RepositoryException("pack " + run.pack() + " is cut short");
        }
        for (PackRuns.Wanted w : run.chunks()) {
            ChunkIndex.Location loc = w.loc();
            if (loc.plainLength() > plain.length) {
                throw new ChunkException(w.id(), "chunk " + w.id() + " claims " + loc.plainLength() + " bytes");
            }
            byte[] stored = storedBuffer(loc.length());
            System.arraycopy(buf, Math.toIntExact(loc.offset() - run.offset()), stored, 0, loc.length());
            ChunkCodec.checkStored(w.id(), loc, stored);
            byte[] frame = FRAME.get();
            int n = envelope.openBlob(loc.pack(), w.id(), stored, loc.length(), frame);
            ChunkCodec.decompress(w.id(), loc, frame, n, plain);
            if (!envelope.chunkId(plain, loc.plainLength()).equals(w.id())) {
                throw new ChunkException(w.id(), "chunk " + w.id() + " in pack " + loc.pack() + " at byte "
                        + loc.offset() + " is damaged: its data does not match its id");
            }
            sink.frame(w, frame, n);
        }
    }

    /**
     * Publishes a writer's last pack and makes all its packs durable, for a
     * caller that writes its own index (a repack).
     *
     * @param writer packs written
     * @return every pack written and its chunks
     * @throws IOException if they cannot be made durable
     */
    public List<PackFormat.PackEntries> finishPacks(PackWriter writer) throws IOException {
        requireExclusive();
        List<PackFormat.PackEntries> packs = writer.finish();
        store.flush();
        return packs;
    }

    /**
     * Reads the list of chunks a pack carries at its end.
     *
     * @param pack a pack's name
     * @return its chunks
     * @throws RepositoryException if the pack is missing, incomplete or damaged
     * @throws IOException if it cannot be read
     */
    public List<PackFormat.Entry> packEntries(String pack) throws IOException {
        long size = store.size(Kind.PACK, pack);
        if (size < PackFormat.PACK_MAGIC.length + PackFormat.PACK_TAIL) {
            throw new RepositoryException("pack " + pack + (size < 0 ? " is missing" : " is incomplete"));
        }
        byte[] magic = new byte[PackFormat.PACK_MAGIC.length];
        store.read(Kind.PACK, pack, 0, magic, 0, magic.length);
        if (!java.util.Arrays.equals(magic, PackFormat.PACK_MAGIC)) {
            throw new RepositoryException("pack " + pack + " is damaged: it does not start as a blksnap pack");
        }
        byte[] tail = new byte[PackFormat.PACK_TAIL];
        store.read(Kind.PACK, pack, size - tail.length, tail, 0, tail.length);
        int len = PackFormat.trailerLength(tail, pack);
        if (len < 4 || len > size - PackFormat.PACK_TAIL - PackFormat.PACK_MAGIC.length) {
            throw new RepositoryException("pack " + pack + " is damaged: bad length of its list of chunks");
        }
        byte[] trailer = new byte[len + PackFormat.PACK_TAIL];
        store.read(Kind.PACK, pack, size - trailer.length, trailer, 0, trailer.length);
        byte[] body = PackFormat.trailerBody(trailer, pack);
        return PackFormat.parseEntries(envelope.open(Kind.PACK, pack, body, "pack " + pack + "'s list of chunks"),
                pack);
    }

    /**
     * Makes a backup visible: flushes its packs, then writes its index
     * object, its manifest and, last, its summary, each durably.
     *
     * @param m      the backup
     * @param writer the packs written for it
     * @throws IOException if it cannot be committed (nothing visible then)
     */
    public void commit(Manifest m, PackWriter writer) throws IOException {
        String problem = ManifestCodec.problem(m.summary(), m.id());
        if (problem != null) {
            throw new IllegalStateException("refusing to write an invalid manifest: " + problem);
        }
        List<PackFormat.PackEntries> packs = writer.finish();
        store.flush();
        if (!packs.isEmpty()) {
            putIndex(packs);
            index().add(packs);
        }
        writeBackup(m);
    }

    /**
     * Writes a manifest and its summary durably; every chunk it names must
     * already be in a durable index.
     *
     * @param m the backup
     * @throws IOException if it cannot be written
     */
    public void writeBackup(Manifest m) throws IOException {
        byte[] bytes = envelope.seal(Kind.MANIFEST, m.id(), ManifestCodec.encode(m));
        store.put(Kind.MANIFEST, m.id(), bytes, bytes.length);
        byte[] summary = envelope.seal(Kind.SUMMARY, m.id(), ManifestCodec.encodeSummary(m.summary()));
        store.put(Kind.SUMMARY, m.id(), summary, summary.length);
    }

    // ---- backups

    /**
     * Reads every summary; one that cannot be read is skipped with a warning.
     *
     * @return the visible backups, oldest first
     * @throws IOException if the store cannot be listed
     */
    public Listing summaries() throws IOException {
        List<BackupSummary> all = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        for (String name : store.list(Kind.SUMMARY)) {
            try {
                all.add(readSummary(name));
            } catch (NoSuchFileException e) {
                // Forgotten since it was listed.
            } catch (RepositoryException e) {
                warnings.add(e.getMessage() + "; skipped");
            }
        }
        all.sort(Comparator.comparing(BackupSummary::started).thenComparing(BackupSummary::id));
        warnings.sort(null);
        return new Listing(all, warnings);
    }

    /**
     * @param id a backup id, or "latest" (the newest readable backup)
     * @return its summary
     * @throws RepositoryException if there is no such backup or its summary is damaged
     * @throws IOException if the store cannot be read
     */
    public BackupSummary summary(String id) throws IOException {
        if ("latest".equals(id)) {
            List<BackupSummary> all = summaries().backups();
            if (all.isEmpty()) {
                throw new RepositoryException(location() + " holds no backup yet");
            }
            return all.getLast();
        }
        try {
            return readSummary(id);
        } catch (NoSuchFileException | IllegalArgumentException e) {
            throw new RepositoryException("no backup '" + id + "' in " + location()
                    + " ('blksnap backup list' shows them)");
        }
    }

    /**
     * @param id a backup id, or "latest"
     * @return its manifest
     * @throws RepositoryException if there is no such backup or it is damaged
     * @throws IOException if the store cannot be read
     */
    public Manifest manifest(String id) throws IOException {
        if ("latest".equals(id)) {
            return latestManifest(new ArrayList<>());
        }
        return manifestOf(summary(id));
    }

    /**
     * The newest backup whose summary and manifest both read; newer ones
     * that do not are skipped, each with a warning.
     *
     * @param warnings where one line per skipped backup goes
     * @return its manifest
     * @throws RepositoryException if no backup reads
     * @throws IOException if the store cannot be read
     */
    public Manifest latestManifest(List<String> warnings) throws IOException {
        Listing l = summaries();
        warnings.addAll(l.warnings());
        List<BackupSummary> all = l.backups();
        for (int i = all.size() - 1; i >= 0; i--) {
            try {
                return manifestOf(all.get(i));
            } catch (RepositoryException e) {
                warnings.add(e.getMessage() + "; skipped");
            }
        }
        throw new RepositoryException(location() + (all.isEmpty() ? " holds no backup yet"
                : " holds no backup whose manifest can be read"));
    }

    private Manifest manifestOf(BackupSummary s) throws IOException {
        byte[] bytes;
        try {
            bytes = store.get(Kind.MANIFEST, s.id());
        } catch (NoSuchFileException e) {
            throw new RepositoryException("backup " + s.id() + ": its manifest is missing from " + location());
        }
        return ManifestCodec.decode(envelope.open(Kind.MANIFEST, s.id(), bytes, "backup " + s.id() + ": its manifest"), s.id());
    }

    private BackupSummary readSummary(String name) throws IOException {
        byte[] b = envelope.open(Kind.SUMMARY, name, store.get(Kind.SUMMARY, name),
                "backup " + name + ": its summary");
        return ManifestCodec.decodeSummary(b, name);
    }

    /**
     * @return every visible backup's manifest, oldest first
     * @throws RepositoryException if one is damaged (named in the message)
     * @throws IOException if the store cannot be read
     */
    public List<Manifest> manifests() throws IOException {
        Listing l = summaries();
        if (!l.warnings().isEmpty()) {
            throw new RepositoryException(l.warnings().getFirst());
        }
        List<Manifest> out = new ArrayList<>();
        for (BackupSummary s : l.backups()) {
            out.add(manifest(s.id()));
        }
        return out;
    }

    /**
     * Removes a backup: its summary (it is gone from then on), then its
     * manifest. Its chunks stay until a garbage collection.
     *
     * @param id backup id
     * @throws IOException if it cannot be removed
     */
    public void deleteBackup(String id) throws IOException {
        requireExclusive();
        store.delete(Kind.SUMMARY, id);
        store.delete(Kind.MANIFEST, id);
    }

    private void removeLeftovers() throws IOException {
        store.removeLeftovers();
        Set<String> visible = new HashSet<>(store.list(Kind.SUMMARY));
        for (String m : store.list(Kind.MANIFEST)) {
            if (!visible.contains(m)) {
                // A create stopped between its manifest and its summary.
                store.delete(Kind.MANIFEST, m);
            }
        }
    }

    /**
     * @param o a record
     * @return its JSON text (snake_case keys)
     */
    public static String toJson(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** @return how this process holds the repository */
    public LockMode mode() {
        return mode;
    }

    private void requireExclusive() {
        if (mode != LockMode.EXCLUSIVE) {
            throw new IllegalStateException("repository not held exclusively");
        }
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
