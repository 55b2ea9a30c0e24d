package org.blksnap.backup.repo;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * A repository in a local directory:
 *
 * <pre>
 * DIR/blksnap-repository.json   what this directory is (format, chunk size)
 * DIR/chunks/00 .. ff/ID        one compressed chunk per file, ID = SHA-256 (hex)
 * DIR/manifests/ID.json         one manifest per backup
 * DIR/tmp/                      files being written; removed by the next writer
 * DIR/lock                      flock: shared for readers, exclusive for writers
 * </pre>
 *
 * <p>Every object is written to a fresh name in {@code tmp/}, fsynced,
 * renamed to its final name (atomic on one filesystem) and its directory
 * fsynced, so a crash at any step leaves either no object or the whole one.
 * Chunk directories are fsynced in one batch by {@link #flush}.
 * Each step goes through {@link #step}, where a test double can stop the
 * protocol as a crash would.
 */
public class LocalDirectoryStore implements ChunkStore {
    /** The file that marks a directory as a repository. */
    public static final String CONFIG_FILE = "blksnap-repository.json";

    private static final java.util.Set<String> SKELETON = java.util.Set.of("chunks", "manifests", "tmp", "lock");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}");

    /** The steps of the write protocol, in order. */
    public enum Step {
        /** A temporary file is created and filled. */
        WRITE_TEMP,
        /** The temporary file is fsynced. */
        SYNC_TEMP,
        /** The temporary file is renamed to its final name. */
        RENAME,
        /** The directory of the final name is fsynced. */
        SYNC_DIR,
        /** A file is removed (prune). */
        UNLINK
    }

    private final Path root;
    private final java.util.Set<Path> dirty = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** @param root the repository directory */
    public LocalDirectoryStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    /** @return the repository directory */
    public Path root() {
        return root;
    }

    @Override
    public String location() {
        return root.toString();
    }

    @Override
    public boolean exists() {
        return Files.isRegularFile(root.resolve(CONFIG_FILE));
    }

    @Override
    public void create() throws IOException {
        if (Files.isDirectory(root)) {
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
                for (Path e : entries) {
                    if (!SKELETON.contains(e.getFileName().toString())) {
                        throw new RepositoryException(root + " is not empty and not a blksnap backup repository: "
                                + "give a new or empty directory");
                    }
                }
            }
        } else if (Files.exists(root)) {
            throw new RepositoryException(root + " exists and is not a directory");
        }
        Files.createDirectories(root);
        Path chunks = root.resolve("chunks");
        Files.createDirectories(chunks);
        Files.createDirectories(root.resolve("manifests"));
        Files.createDirectories(root.resolve("tmp"));
        if (!Files.exists(root.resolve("lock"))) {
            Files.createFile(root.resolve("lock"));
        }
        syncDir(chunks);
        syncDir(root.resolve("manifests"));
        syncDir(root.resolve("tmp"));
        syncDir(root);
    }

    /**
     * @param kind namespace
     * @param name object name
     * @return the file of the object
     */
    public Path path(Kind kind, String name) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid object name '" + name + "'");
        }
        return switch (kind) {
            case CHUNK -> {
                if (name.length() < 2) {
                    throw new IllegalArgumentException("invalid chunk name '" + name + "'");
                }
                yield root.resolve("chunks").resolve(name.substring(0, 2).toLowerCase()).resolve(name);
            }
            case MANIFEST -> root.resolve("manifests").resolve(name + ".json");
            case CONFIG -> root.resolve(name);
        };
    }

    @Override
    public void put(Kind kind, String name, byte[] data, int length) throws IOException {
        Path target = path(kind, name);
        if (kind == Kind.CHUNK && !Files.isDirectory(target.getParent())) {
            // Chunk subdirectories are made on first use; the new entry in
            // chunks/ is made durable with the chunk's own directory.
            Files.createDirectories(target.getParent());
            dirty.add(target.getParent().getParent());
        }
        Path temp = root.resolve("tmp").resolve(name + "." + Long.toHexString(ThreadLocalRandom.current().nextLong())
                + ".tmp");
        boolean renamed = false;
        try {
            step(Step.WRITE_TEMP, temp);
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(data, 0, length);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                step(Step.SYNC_TEMP, temp);
                syncFile(ch);
            }
            step(Step.RENAME, target);
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new RepositoryException(root + ": cannot rename atomically inside the repository", e);
            }
            renamed = true;
            if (kind == Kind.CHUNK) {
                // Chunks are invisible until a manifest names them: their
                // directories are synced once, by flush(), before it is written.
                dirty.add(target.getParent());
            } else {
                step(Step.SYNC_DIR, target.getParent());
                syncDir(target.getParent());
            }
        } catch (IOException | RuntimeException e) {
            if (!renamed && !(e instanceof SimulatedCrash)) {
                Files.deleteIfExists(temp);
            }
            throw e;
        }
    }

    @Override
    public void flush() throws IOException {
        List<Path> dirs = new ArrayList<>(dirty);
        // Subdirectories first, then chunks/ whose entries name them.
        dirs.sort(java.util.Comparator.comparingInt(Path::getNameCount).reversed());
        for (Path d : dirs) {
            step(Step.SYNC_DIR, d);
            syncDir(d);
            dirty.remove(d);
        }
    }

    @Override
    public byte[] get(Kind kind, String name) throws IOException {
        return Files.readAllBytes(path(kind, name));
    }

    @Override
    public boolean has(Kind kind, String name) {
        return Files.isRegularFile(path(kind, name));
    }

    @Override
    public long size(Kind kind, String name) throws IOException {
        try {
            return Files.size(path(kind, name));
        } catch (NoSuchFileException e) {
            return -1;
        }
    }

    @Override
    public List<String> list(Kind kind) throws IOException {
        List<String> names = new ArrayList<>();
        switch (kind) {
            case CHUNK -> {
                try (DirectoryStream<Path> subdirs = Files.newDirectoryStream(root.resolve("chunks"))) {
                    for (Path d : subdirs) {
                        if (Files.isDirectory(d)) {
                            addNames(d, "", names);
                        }
                    }
                }
            }
            case MANIFEST -> addNames(root.resolve("manifests"), ".json", names);
            case CONFIG -> {
                if (exists()) {
                    names.add(CONFIG_FILE);
                }
            }
        }
        return names;
    }

    private static void addNames(Path dir, String suffix, List<String> names) throws IOException {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                String n = f.getFileName().toString();
                if (n.endsWith(suffix) && NAME.matcher(n).matches() && Files.isRegularFile(f)) {
                    names.add(n.substring(0, n.length() - suffix.length()));
                }
            }
        } catch (NoSuchFileException e) {
            throw new RepositoryException(dir + " is missing: the repository is damaged", e);
        }
    }

    @Override
    public void delete(Kind kind, String name) throws IOException {
        Path p = path(kind, name);
        step(Step.UNLINK, p);
        if (Files.deleteIfExists(p)) {
            if (kind == Kind.CHUNK) {
                // A deleted chunk that comes back after a power loss is only unreferenced.
                dirty.add(p.getParent());
            } else {
                step(Step.SYNC_DIR, p.getParent());
                syncDir(p.getParent());
            }
        }
    }

    @Override
    public Lock lock(LockMode mode) throws IOException {
        // The JVM refuses overlapping flocks of one file even when both are
        // shared, so readers in one process share one OS lock.
        synchronized (HELD) {
            Held h = HELD.get(root);
            if (h != null) {
                if (mode == LockMode.SHARED && h.mode == LockMode.SHARED) {
                    h.users++;
                    return () -> release(h);
                }
                throw locked(mode);
            }
            Held fresh = acquire(mode);
            HELD.put(root, fresh);
            return () -> release(fresh);
        }
    }

    private static final java.util.Map<Path, Held> HELD = new java.util.HashMap<>();

    /** An OS lock of this process and how many holders share it. */
    private static final class Held {
        final LockMode mode;
        final FileChannel channel;
        final FileLock lock;
        int users = 1;

        Held(LockMode mode, FileChannel channel, FileLock lock) {
            this.mode = mode;
            this.channel = channel;
            this.lock = lock;
        }
    }

    private Held acquire(LockMode mode) throws IOException {
        Path file = root.resolve("lock");
        FileChannel ch = mode == LockMode.SHARED
                ? FileChannel.open(file, StandardOpenOption.READ)
                : FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = ch.tryLock(0, Long.MAX_VALUE, mode == LockMode.SHARED);
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        if (lock == null) {
            ch.close();
            throw locked(mode);
        }
        return new Held(mode, ch, lock);
    }

    private void release(Held h) throws IOException {
        synchronized (HELD) {
            if (--h.users > 0) {
                return;
            }
            HELD.remove(root, h);
            try {
                h.lock.release();
            } finally {
                h.channel.close();
            }
        }
    }

    private RepositoryException locked(LockMode mode) {
        return new RepositoryException(root + " is in use by another blksnap backup command ("
                + (mode == LockMode.EXCLUSIVE ? "create and prune need it alone" : "a create or prune runs")
                + "); try again when it has finished");
    }

    @Override
    public int removeLeftovers() throws IOException {
        int n = 0;
        Path tmp = root.resolve("tmp");
        try (DirectoryStream<Path> files = Files.newDirectoryStream(tmp)) {
            for (Path f : files) {
                Files.deleteIfExists(f);
                n++;
            }
        }
        if (n > 0) {
            syncDir(tmp);
        }
        return n;
    }

    @Override
    public void close() {
        // Nothing held: locks are closed by their holders.
    }

    /**
     * Called before each step of the write and delete protocol. The real
     * store does nothing here; a test double throws {@link SimulatedCrash}
     * to stop as a kill would.
     *
     * @param step the step about to run
     * @param path the file or directory it concerns
     * @throws IOException to fail the step
     */
    protected void step(Step step, Path path) throws IOException {
    }

    /**
     * @param ch a file just written
     * @throws IOException if fsync fails
     */
    protected void syncFile(FileChannel ch) throws IOException {
        ch.force(true);
    }

    /**
     * @param dir a directory whose entries changed
     * @throws IOException if fsync fails
     */
    protected void syncDir(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /**
     * Thrown by test doubles from {@link #step}: the store leaves everything
     * as it is at that point, as a killed process would.
     */
    public static class SimulatedCrash extends IOException {
        private static final long serialVersionUID = 1L;

        /** @param message which step */
        public SimulatedCrash(String message) {
            super(message);
        }
    }
}
