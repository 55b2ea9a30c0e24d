package org.blksnap.backup.repo;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * A repository in a local directory:
 *
 * <pre>
 * DIR/blksnap-repository.json   what this directory is (format, chunk size)
 * DIR/packs/00 .. ff/NAME       pack files (compressed chunks back to back)
 * DIR/index/NAME                index objects: chunk id to pack, offset, length
 * DIR/manifests/ID              one binary manifest per backup
 * DIR/summaries/ID.json         one summary per backup; makes it visible
 * DIR/tmp/                      files being written
 * DIR/lock                      flock: shared for readers and create, exclusive for prune
 * </pre>
 *
 * <p>Small objects are written to a fresh name in {@code tmp/}, fsynced,
 * renamed to their final name (atomic on one filesystem) and their directory
 * fsynced, so a crash at any step leaves either no object or the whole one.
 * Packs are renamed when complete but fsynced, with their directories, in
 * one batch by {@link #flush}: until an index names them a lost pack is only
 * unreferenced. Each step goes through {@link #step}, where a test double can
 * stop the protocol as a crash would.
 */
public class LocalDirectoryStore implements ChunkStore {
    /** The file that marks a directory as a repository. */
    public static final String CONFIG_FILE = "blksnap-repository.json";

    private static final List<String> DIRS = List.of("packs", "index", "manifests", "summaries", "tmp");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}");
    private static final long LOCK_POLL_MILLIS = 100;

    /** The steps of the write protocol, in order. */
    public enum Step {
        /** A temporary file is created and filled. */
        WRITE_TEMP,
        /** The temporary file is fsynced. */
        SYNC_TEMP,
        /** The temporary file is renamed to its final name. */
        RENAME,
        /** A published pack is fsynced (flush). */
        SYNC_FILE,
        /** The directory of the final name is fsynced. */
        SYNC_DIR,
        /** A file is removed (prune). */
        UNLINK
    }

    private final Path root;
    private final Set<Path> unsyncedFiles = ConcurrentHashMap.newKeySet();
    private final Set<Path> unsyncedDirs = ConcurrentHashMap.newKeySet();

    /** @param root the repository directory */
    public LocalDirectoryStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    /** @return the directory */
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
        if (Files.exists(root) && !Files.isDirectory(root)) {
            throw new RepositoryException(root + " exists and is not a directory");
        }
        if (Files.isDirectory(root)) {
            try (DirectoryStream<Path> s = Files.newDirectoryStream(root)) {
                for (Path p : s) {
                    String n = p.getFileName().toString();
                    if (!DIRS.contains(n) && !n.equals("lock") && !n.equals(KeyRing.OBJECT)) {
                        throw new RepositoryException(root + " is not empty and not a blksnap backup repository "
                                + "(it holds " + n + ")");
                    }
                }
            }
        }
        Files.createDirectories(root);
        for (String d : DIRS) {
            Files.createDirectories(root.resolve(d));
        }
        if (!Files.exists(root.resolve("lock"))) {
            Files.createFile(root.resolve("lock"));
        }
        for (String d : DIRS) {
            syncDir(root.resolve(d));
        }
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
            case PACK -> {
                if (name.length() < 2) {
                    throw new IllegalArgumentException("invalid pack name '" + name + "'");
                }
                yield root.resolve("packs").resolve(name.substring(0, 2).toLowerCase()).resolve(name);
            }
            case INDEX -> root.resolve("index").resolve(name);
            case MANIFEST -> root.resolve("manifests").resolve(name);
            case SUMMARY -> root.resolve("summaries").resolve(name + ".json");
            case CONFIG -> root.resolve(name);
        };
    }

    private Path tempFor(String name) {
        return root.resolve("tmp").resolve(name + "." + Long.toHexString(ThreadLocalRandom.current().nextLong())
                + ".tmp");
    }

    @Override
    public void put(Kind kind, String name, byte[] data, int length) throws IOException {
        Path target = path(kind, name);
        Path temp = tempFor(name);
        boolean renamed = false;
        try {
            step(Step.WRITE_TEMP, temp);
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                writeFully(ch, data, 0, length);
                step(Step.SYNC_TEMP, temp);
                syncFile(ch);
            }
            makeParent(target);
            step(Step.RENAME, target);
            move(temp, target);
            renamed = true;
            step(Step.SYNC_DIR, target.getParent());
            syncDir(target.getParent());
        } catch (IOException | RuntimeException e) {
            if (!renamed && !(e instanceof SimulatedCrash)) {
                Files.deleteIfExists(temp);
            }
            throw e;
        }
    }

    /** Bytes a pack writer gathers before each O_DIRECT write. */
    private static final int PACK_WRITE = 4 << 20;

    /**
     * Packs are written with O_DIRECT where the file system takes it (see
     * {@link DirectFile}): a backup writes gigabytes that no one reads back
     * soon, and through the page cache they would evict what the machine
     * caches for its own work. Bytes are gathered into whole aligned blocks;
     * what is left of the last one goes through the page cache at publish.
     */
    @Override
    public ObjectWriter writer(Kind kind, String name) throws IOException {
        Path target = path(kind, name);
        Path temp = tempFor(name);
        step(Step.WRITE_TEMP, temp);
        DirectFile file = DirectFile.create(temp);
        Arena arena = Arena.ofShared();
        MemorySegment block;
        try {
            block = file.direct() ? arena.allocate(PACK_WRITE, DirectFile.ALIGN) : null;
        } catch (RuntimeException | OutOfMemoryError e) {
            arena.close();
            file.close();
            Files.deleteIfExists(temp);
            throw e;
        }
        return new ObjectWriter() {
            private long size;
            /** Bytes of {@code block} not yet written; they go at {@code size - pending}. */
            private int pending;
            private boolean published;
            private boolean closed;

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (block == null) {
                    file.writeBuffered(b, off, len, size);
                    size += len;
                    return;
                }
                while (len > 0) {
                    int n = Math.min(len, PACK_WRITE - pending);
                    MemorySegment.copy(b, off, block, ValueLayout.JAVA_BYTE, pending, n);
                    pending += n;
                    size += n;
                    off += n;
                    len -= n;
                    if (pending == PACK_WRITE) {
                        file.writeDirect(block, PACK_WRITE, size - PACK_WRITE);
                        pending = 0;
                    }
                }
            }

            @Override
            public long size() {
                return size;
            }

            @Override
            public void publish() throws IOException {
                if (pending > 0) {
                    int whole = pending - pending % DirectFile.ALIGN;
                    file.writeDirect(block, whole, size - pending);
                    byte[] rest = block.asSlice(whole, pending - whole).toArray(ValueLayout.JAVA_BYTE);
                    file.writeBuffered(rest, 0, rest.length, size - pending + whole);
                    pending = 0;
                }
                closeFile();
                makeParent(target);
                step(Step.RENAME, target);
                move(temp, target);
                published = true;
                unsyncedFiles.add(target);
                unsyncedDirs.add(target.getParent());
            }

            private void closeFile() throws IOException {
                if (!closed) {
                    closed = true;
                    try {
                        file.close();
                    } finally {
                        arena.close();
                    }
                }
            }

            @Override
            public void close() throws IOException {
                closeFile();
                if (!published) {
                    Files.deleteIfExists(temp);
                }
            }
        };
    }

    private void makeParent(Path target) throws IOException {
        if (!Files.isDirectory(target.getParent())) {
            // Pack subdirectories are made on first use; their entry in
            // packs/ becomes durable with the next flush.
            Files.createDirectories(target.getParent());
            unsyncedDirs.add(target.getParent().getParent());
        }
    }

    private void move(Path temp, Path target) throws IOException {
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new RepositoryException(root + ": cannot rename atomically inside the repository", e);
        }
    }

    private static void writeFully(FileChannel ch, byte[] data, int off, int length) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(data, off, length);
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    @Override
    public void flush() throws IOException {
        for (Path f : List.copyOf(unsyncedFiles)) {
            step(Step.SYNC_FILE, f);
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                syncFile(ch);
            }
            unsyncedFiles.remove(f);
        }
        List<Path> dirs = new ArrayList<>(unsyncedDirs);
        // Subdirectories first, then packs/ whose entries name them.
        dirs.sort(Comparator.comparingInt(Path::getNameCount).reversed());
        for (Path d : dirs) {
            step(Step.SYNC_DIR, d);
            syncDir(d);
            unsyncedDirs.remove(d);
        }
    }

    @Override
    public byte[] get(Kind kind, String name) throws IOException {
        return Files.readAllBytes(path(kind, name));
    }

    @Override
    public void read(Kind kind, String name, long offset, byte[] dst, int at, int length) throws IOException {
        // One open per read: a restore touches thousands of packs, and a
        // cache of open channels would need closing under concurrent readers.
        try (FileChannel ch = FileChannel.open(path(kind, name), StandardOpenOption.READ)) {
            ByteBuffer b = ByteBuffer.wrap(dst, at, length);
            while (b.hasRemaining()) {
                if (ch.read(b, offset + b.position() - at) < 0) {
                    throw new EOFException(name + " ends before byte " + (offset + length));
                }
            }
        }
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
            case PACK -> {
                try (DirectoryStream<Path> subdirs = Files.newDirectoryStream(root.resolve("packs"))) {
                    for (Path d : subdirs) {
                        if (Files.isDirectory(d)) {
                            addNames(d, "", names);
                        }
                    }
                } catch (NoSuchFileException e) {
                    throw missing(root.resolve("packs"), e);
                }
            }
            case INDEX -> addNames(root.resolve("index"), "", names);
            case MANIFEST -> addNames(root.resolve("manifests"), "", names);
            case SUMMARY -> addNames(root.resolve("summaries"), ".json", names);
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
            throw missing(dir, e);
        }
    }

    private static RepositoryException missing(Path dir, Exception e) {
        return new RepositoryException(dir + " is missing: the repository is damaged", e);
    }

    @Override
    public void delete(Kind kind, String name) throws IOException {
        Path p = path(kind, name);
        step(Step.UNLINK, p);
        if (Files.deleteIfExists(p)) {
            step(Step.SYNC_DIR, p.getParent());
            syncDir(p.getParent());
        }
    }

    @Override
    public Lock lock(LockMode mode, Duration wait) throws IOException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            Lock l = tryLock(mode);
            if (l != null) {
                return l;
            }
            if (System.nanoTime() - deadline >= 0) {
                throw new RepositoryBusyException(root + " is in use by another blksnap backup command ("
                        + (mode == LockMode.EXCLUSIVE ? "prune and forget need it alone" : "a prune or forget runs")
                        + ")" + (wait.isZero() ? "; try again later or give --lock-wait"
                                : "; gave up after waiting " + wait.toSeconds() + " s"));
            }
            try {
                Thread.sleep(LOCK_POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("interrupted while waiting for the lock of " + root);
            }
        }
    }

    private Lock tryLock(LockMode mode) throws IOException {
        // The JVM refuses overlapping flocks of one file even when both are
        // shared, so holders in one process share one OS lock.
        synchronized (HELD) {
            Held h = HELD.get(root);
            if (h != null) {
                if (mode == LockMode.SHARED && h.mode == LockMode.SHARED) {
                    h.users++;
                    return new Holder(h);
                }
                return null;
            }
            Held fresh = acquire(mode);
            if (fresh == null) {
                return null;
            }
            HELD.put(root, fresh);
            return new Holder(fresh);
        }
    }

    /** One holder's share of an OS lock; closing it twice releases it once. */
    private final class Holder implements Lock {
        private final Held held;
        private boolean closed;

        Holder(Held held) {
            this.held = held;
        }

        @Override
        public void close() throws IOException {
            synchronized (HELD) {
                if (closed) {
                    return;
                }
                closed = true;
            }
            release(held);
        }
    }

    private static final Map<Path, Held> HELD = new HashMap<>();

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
            return null;
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

    /**
     * {@inheritDoc}
     *
     * <p>Here also the format 1 files a migration stopped after its commit
     * point left ({@link #removeFormat1Files}): the config is format 2 by
     * then, or no format 2 command would hold the repository.
     */
    @Override
    public int removeLeftovers() throws IOException {
        return removeLeftoverTemporaries() + removeFormat1Files();
    }

    /**
     * Removes the files being written when a command stopped.
     *
     * @return how many were removed
     * @throws IOException if they cannot be removed
     */
    int removeLeftoverTemporaries() throws IOException {
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

    /**
     * Removes what format 1 kept and format 2 does not read: the chunk files
     * under {@code chunks/} and the JSON manifests {@code manifests/ID.json}.
     * Only for a repository whose config is already format 2 (see
     * {@link Format1Migration}): before that they are the repository.
     *
     * @return how many files were removed
     * @throws IOException if they cannot be removed
     */
    int removeFormat1Files() throws IOException {
        int n = 0;
        Path manifests = root.resolve("manifests");
        try (DirectoryStream<Path> files = Files.newDirectoryStream(manifests, "*.json")) {
            for (Path f : files) {
                step(Step.UNLINK, f);
                Files.deleteIfExists(f);
                n++;
            }
        } catch (NoSuchFileException e) {
            // Nothing there.
        }
        if (n > 0) {
            step(Step.SYNC_DIR, manifests);
            syncDir(manifests);
        }
        Path chunks = root.resolve("chunks");
        if (!Files.isDirectory(chunks)) {
            return n;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(chunks)) {
            for (Path d : dirs) {
                if (Files.isDirectory(d)) {
                    try (DirectoryStream<Path> files = Files.newDirectoryStream(d)) {
                        for (Path f : files) {
                            step(Step.UNLINK, f);
                            Files.deleteIfExists(f);
                            n++;
                        }
                    }
                }
                step(Step.UNLINK, d);
                Files.delete(d);
            }
        }
        step(Step.UNLINK, chunks);
        Files.delete(chunks);
        step(Step.SYNC_DIR, root);
        syncDir(root);
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
