package org.blksnap.backup.repo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import org.blksnap.backup.repo.ChunkStore.Kind;
import org.blksnap.backup.repo.ChunkStore.LockMode;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Converts a format 1 repository (one file per chunk under {@code chunks/},
 * JSON manifests {@code manifests/ID.json}) in place to format 2, keeping
 * every backup, its id, tag, times and incremental chain.
 *
 * <p>Chunk data is not recompressed: a format 1 chunk file is a header and
 * the zstd frame that format 2 packs hold as they are, and a chunk's id
 * (SHA-256 of the plain data) is the same in both formats. Each frame is
 * checked against the SHA-256 its header carries before it is packed, so a
 * damaged chunk stops the migration instead of being carried over silently.
 *
 * <p>Crash safety. The format 2 objects are written next to the format 1
 * ones, in directories and under names format 1 never reads (packs/,
 * index/, summaries/, manifests/ID without ".json"), and made durable. The
 * commit point is the atomic rename of a format 2 config over
 * {@code blksnap-repository.json}: until then the directory is the format 1
 * repository it was, file for file, and a later migration first removes the
 * format 2 objects an interrupted one left; from then on it is a format 2
 * repository, and the format 1 files still there are removed by the
 * migration or, if it was stopped, by the next command that holds the
 * repository alone ({@link LocalDirectoryStore#removeLeftovers}).
 * Everything runs under the exclusive repository lock, the same flock
 * format 1 used, so no format 1 writer runs meanwhile.
 */
public final class Format1Migration {
    /** The format this class reads. */
    public static final int FORMAT = 1;

    private static final int HEADER = 40;
    private static final byte[] MAGIC = {'B', 'S', 'C', '1'};
    private static final Pattern CHUNK_ID = Pattern.compile("[0-9a-f]{64}");
    /** Format 1 wrote camelCase keys. */
    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /**
     * What a migration did.
     *
     * @param alreadyFormat2 true if the repository was format 2 already (nothing converted)
     * @param backups        backups converted
     * @param chunks         chunks packed
     * @param bytes          bytes of chunk data packed
     * @param packs          pack files written
     * @param unreferenced   format 1 chunk files no backup named (left out; a prune would have removed them)
     */
    public record Result(boolean alreadyFormat2, int backups, int chunks, long bytes, int packs, int unreferenced) {
    }

    record V1Config(int format, int chunkSize, String compression, String created) {
    }

    record V1Device(String name, long sizeBytes, String mode, String parent, String generationId,
            int changesNumber, int cbtBlockSize, long bytesRead, List<String> chunks) {
    }

    record V1Manifest(int format, String id, String tag, String started, String finished, String toolVersion,
            int chunkSize, List<V1Device> devices) {
    }

    private final LocalDirectoryStore store;
    private final Path root;
    private final long packSize;

    /** @param store the repository's directory */
    public Format1Migration(LocalDirectoryStore store) {
        this(store, Repository.DEFAULT_PACK_SIZE);
    }

    /**
     * @param store    the repository's directory
     * @param packSize bytes per pack file of the format 2 repository (at least its chunk size)
     */
    public Format1Migration(LocalDirectoryStore store, long packSize) {
        this.store = store;
        this.root = store.root();
        this.packSize = packSize;
    }

    /**
     * @param store a repository directory
     * @return true if it holds a format 1 repository
     * @throws IOException if its config cannot be read
     */
    public static boolean isFormat1(ChunkStore store) throws IOException {
        if (!store.exists()) {
            return false;
        }
        try {
            JsonNode f = JSON.readTree(store.get(Kind.CONFIG, LocalDirectoryStore.CONFIG_FILE)).get("format");
            return f != null && f.asInt() == FORMAT;
        } catch (JsonProcessingException e) {
            return false;
        }
    }

    /**
     * Migrates the repository; one that is already format 2 only loses
     * format 1 files an interrupted migration left.
     *
     * @param lockWait how long to wait for other commands to finish
     * @return what was done
     * @throws RepositoryBusyException if the repository stays in use
     * @throws RepositoryException if it is no repository, or a backup or chunk is damaged (nothing changed then)
     * @throws IOException if it cannot be read or written
     */
    public Result migrate(Duration lockWait) throws IOException {
        if (!store.exists()) {
            throw new RepositoryException(root + " is not a blksnap backup repository (no "
                    + LocalDirectoryStore.CONFIG_FILE + ")");
        }
        if (!isFormat1(store)) {
            // Held alone, a format 2 repository loses what a migration stopped after its commit point left.
            Repository.open(store, LockMode.EXCLUSIVE, lockWait).close();
            return new Result(true, 0, 0, 0, 0, 0);
        }
        ChunkStore.Lock lock = store.lock(LockMode.EXCLUSIVE, lockWait);
        try {
            return migrateLocked();
        } finally {
            lock.close();
        }
    }

    private Result migrateLocked() throws IOException {
        V1Config c = readConfig();
        removeInterruptedMigration();
        // One manifest in memory at a time (a format 1 manifest of a 1 TiB device is a million hex strings):
        // read once to check them all and learn their chunks, once more to convert them.
        List<Backup> backups = new ArrayList<>();
        Map<ChunkId, Chunk> chunks = new LinkedHashMap<>();
        for (Path f : manifestFiles()) {
            V1Manifest m = readManifest(f, c);
            backups.add(new Backup(m.id(), m.started(), f));
            for (V1Device d : m.devices()) {
                for (String id : d.chunks()) {
                    if (id != null) {
                        chunks.computeIfAbsent(ChunkId.parse(id), k -> new Chunk(m.id()));
                    }
                }
            }
        }
        backups.sort(Comparator.comparing(Backup::started).thenComparing(Backup::id));
        checkSpace(chunks.keySet());
        Repository.Config target = new Repository.Config(Repository.FORMAT, c.chunkSize(), "zstd",
                Math.max(packSize, c.chunkSize()), c.created(), Envelope.Plain.SCHEME);
        Repository repo = Repository.migrationTarget(store, target);
        List<PackFormat.PackEntries> packs;
        long bytes = 0;
        try (PackWriter w = repo.newPackWriter()) {
            for (Map.Entry<ChunkId, Chunk> e : chunks.entrySet()) {
                pack(w, e.getKey(), e.getValue(), c.chunkSize());
                bytes += e.getValue().frameLength;
            }
            packs = w.finish();
        }
        store.flush();
        if (!packs.isEmpty()) {
            repo.putIndex(packs);
        }
        for (Backup b : backups) {
            repo.writeBackup(convert(readManifest(b.file(), c), chunks));
        }
        int unreferenced = countChunkFiles() - chunks.size();
        // The commit point: from this rename on the directory is a format 2 repository.
        byte[] config = Repository.configBytes(target);
        store.put(Kind.CONFIG, LocalDirectoryStore.CONFIG_FILE, config, config.length);
        store.removeFormat1Files();
        return new Result(false, backups.size(), chunks.size(), bytes, packs.size(), unreferenced);
    }

    /** A backup to convert: what sorts it, and its manifest's file. */
    private record Backup(String id, String started, Path file) {
    }

    /** A chunk to pack: the first backup naming it (for messages), what was packed, whether it was counted. */
    private static final class Chunk {
        final String backup;
        int frameLength;
        boolean counted;

        Chunk(String backup) {
            this.backup = backup;
        }
    }

    private V1Config readConfig() throws IOException {
        V1Config c;
        try {
            c = JSON.readValue(store.get(Kind.CONFIG, LocalDirectoryStore.CONFIG_FILE), V1Config.class);
        } catch (JsonProcessingException e) {
            throw new RepositoryException(root + ": " + LocalDirectoryStore.CONFIG_FILE + " is damaged: "
                    + e.getOriginalMessage());
        }
        if (c.format() != FORMAT || !"zstd".equals(c.compression()) || Integer.bitCount(c.chunkSize()) != 1
                || c.chunkSize() < Repository.MIN_CHUNK_SIZE) {
            throw new RepositoryException(root + ": unsupported format 1 repository (compression "
                    + c.compression() + ", chunk size " + c.chunkSize() + ")");
        }
        if (c.chunkSize() > Repository.MAX_CHUNK_SIZE) {
            throw new RepositoryException(root + ": its chunks are " + (c.chunkSize() >> 20) + " MiB and format 2 "
                    + "takes at most " + (Repository.MAX_CHUNK_SIZE >> 20) + " MiB; it cannot be migrated in "
                    + "place (restore its backups with the blksnap that wrote them)");
        }
        return c;
    }

    /** Removes the format 2 objects of a migration that stopped before its commit point. */
    private void removeInterruptedMigration() throws IOException {
        for (String d : List.of("packs", "index", "summaries", "manifests", "tmp")) {
            Files.createDirectories(root.resolve(d));
        }
        store.removeLeftoverTemporaries();
        for (Kind k : List.of(Kind.SUMMARY, Kind.INDEX, Kind.PACK)) {
            for (String name : store.list(k)) {
                store.delete(k, name);
            }
        }
        for (String name : store.list(Kind.MANIFEST)) {
            if (!name.endsWith(".json")) {
                store.delete(Kind.MANIFEST, name);
            }
        }
        for (String d : List.of("packs", "index", "summaries")) {
            store.syncDir(root.resolve(d));
        }
        store.syncDir(root);
    }

    private List<Path> manifestFiles() throws IOException {
        List<Path> all = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(root.resolve("manifests"), "*.json")) {
            for (Path f : files) {
                all.add(f);
            }
        }
        return all;
    }

    private V1Manifest readManifest(Path f, V1Config c) throws IOException {
        String id = f.getFileName().toString();
        id = id.substring(0, id.length() - ".json".length());
        V1Manifest m;
        try {
            m = JSON.readValue(Files.readAllBytes(f), V1Manifest.class);
        } catch (IOException | RuntimeException e) {
            throw damaged(id, e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse(""));
        }
        String problem = problem(m, id, c);
        if (problem != null) {
            throw damaged(id, problem);
        }
        return m;
    }

    private RepositoryException damaged(String id, String why) {
        return new RepositoryException("backup " + id + ": its format 1 manifest is damaged (" + why + "); "
                + "nothing was migrated and " + root + " is unchanged: move manifests/" + id + ".json out of the "
                + "repository to migrate the other backups without it");
    }

    private static String problem(V1Manifest m, String id, V1Config c) {
        if (m.format() != FORMAT) {
            return "format " + m.format() + ", expected " + FORMAT;
        }
        if (!id.equals(m.id())) {
            return "it says it is backup " + m.id();
        }
        if (m.chunkSize() != c.chunkSize() || m.started() == null || m.devices() == null || m.devices().isEmpty()) {
            return "bad chunk size, start time or devices";
        }
        try {
            java.time.Instant.parse(m.started());
        } catch (RuntimeException e) {
            return "bad start time " + m.started();
        }
        for (V1Device d : m.devices()) {
            if (d.name() == null || d.sizeBytes() <= 0 || d.chunks() == null
                    || d.chunks().size() != Math.ceilDiv(d.sizeBytes(), m.chunkSize())) {
                return d.name() + ": its chunks do not cover " + d.sizeBytes() + " bytes";
            }
            for (String id1 : d.chunks()) {
                if (id1 != null && !CHUNK_ID.matcher(id1).matches()) {
                    return d.name() + ": bad chunk id '" + id1 + "'";
                }
            }
        }
        return null;
    }

    private Path chunkFile(String id) {
        return root.resolve("chunks").resolve(id.substring(0, 2)).resolve(id);
    }

    private void checkSpace(Iterable<ChunkId> all) throws IOException {
        long need = 0;
        for (ChunkId id : all) {
            try {
                need += Files.size(chunkFile(id.toString()));
            } catch (NoSuchFileException e) {
                // pack() names it.
            }
        }
        // The packs' own lists of chunks, the index and the manifests: well under 1% more.
        need += need / 64 + (1 << 20);
        long free = Files.getFileStore(root).getUsableSpace();
        if (free < need) {
            throw new RepositoryException("migrating " + root + " needs about " + (need >> 20) + " MiB free on its "
                    + "filesystem (the chunks are copied into pack files before the old files are removed) and "
                    + "only " + (free >> 20) + " MiB are; nothing was changed");
        }
    }

    /** Checks a format 1 chunk file and appends its frame to a pack. */
    private void pack(PackWriter w, ChunkId id, Chunk k, int chunkSize) throws IOException {
        byte[] file;
        try {
            file = Files.readAllBytes(chunkFile(id.toString()));
        } catch (NoSuchFileException e) {
            throw new RepositoryException("chunk " + id + " of backup " + k.backup + " is missing from " + root
                    + "; nothing was migrated and the repository is unchanged");
        }
        String why = null;
        int plain = file.length >= HEADER ? ByteBuffer.wrap(file, 4, 4).getInt() : -1;
        if (file.length < HEADER || !Arrays.equals(file, 0, 4, MAGIC, 0, 4)) {
            why = "not a blksnap chunk file";
        } else if (plain <= 0 || plain > chunkSize) {
            why = "it claims " + plain + " bytes";
        } else {
            MessageDigest md = sha256();
            md.update(file, HEADER, file.length - HEADER);
            if (!Arrays.equals(md.digest(), 0, 32, file, 8, HEADER)) {
                why = "its content does not match its checksum";
            }
        }
        if (why != null) {
            throw new RepositoryException("chunk " + id + " of backup " + k.backup + " is damaged (" + why
                    + "); nothing was migrated and " + root + " is unchanged");
        }
        byte[] frame = Arrays.copyOfRange(file, HEADER, file.length);
        w.add(id, frame, frame.length, plain);
        k.frameLength = frame.length;
    }

    /**
     * Each chunk's bytes count as stored by the oldest backup naming it, as format 2 counts
     * bytes_stored: call in backup order.
     */
    private static Manifest convert(V1Manifest m, Map<ChunkId, Chunk> chunks) {
        List<BackupSummary.DeviceSummary> devices = new ArrayList<>();
        List<ChunkIds> ids = new ArrayList<>();
        for (V1Device d : m.devices()) {
            ChunkIds device = new ChunkIds(d.chunks().size());
            long added = 0;
            for (int i = 0; i < d.chunks().size(); i++) {
                String hex = d.chunks().get(i);
                if (hex != null) {
                    ChunkId id = ChunkId.parse(hex);
                    device.set(i, id);
                    Chunk k = chunks.get(id);
                    if (!k.counted) {
                        k.counted = true;
                        added += k.frameLength;
                    }
                }
            }
            // Format 1 knew no device identity: the chain continues by name, as it did.
            devices.add(new BackupSummary.DeviceSummary(d.name(), null, d.sizeBytes(), d.mode(), d.parent(),
                    d.generationId(), d.changesNumber(), d.cbtBlockSize(), d.bytesRead(), added, device.size()));
            ids.add(device);
        }
        BackupSummary s = new BackupSummary(BackupSummary.FORMAT, m.id(), m.tag(), m.started(), m.finished(),
                m.toolVersion(), m.chunkSize(), devices);
        return new Manifest(s, ids);
    }

    private int countChunkFiles() throws IOException {
        int n = 0;
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root.resolve("chunks"))) {
            for (Path d : dirs) {
                if (Files.isDirectory(d)) {
                    try (DirectoryStream<Path> files = Files.newDirectoryStream(d)) {
                        for (Path f : files) {
                            n++;
                        }
                    }
                }
            }
        } catch (NoSuchFileException e) {
            return 0;
        }
        return n;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the Java runtime has no SHA-256", e);
        }
    }
}
