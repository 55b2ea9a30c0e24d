package org.blksnap.backup.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import org.blksnap.backup.BackupException;
import org.blksnap.backup.repo.ChunkCodec;
import org.blksnap.backup.repo.ChunkException;
import org.blksnap.backup.repo.ChunkId;
import org.blksnap.backup.repo.ChunkIds;
import org.blksnap.backup.repo.ChunkIndex;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.PackRuns;
import org.blksnap.backup.repo.Repository;

/**
 * Writes one device of a backup to a block device or a file. Files are
 * written sparse (all-zero chunks become holes) under a temporary name and
 * renamed when complete; block devices are opened exclusively and get every
 * byte, zeros included. What may be a target is {@link RestoreTarget}'s
 * decision, made before anything is written.
 */
public final class RestoreEngine {
    private final Repository repo;
    private final int threads;
    private final ProgressListener progress;
    /** Chunks written as zeros by the running restore, or null to fail at the first bad chunk. */
    private volatile java.util.SortedMap<Integer, String> lost;

    /**
     * What a restore did.
     *
     * @param bytesWritten bytes written to the target (zero chunks of a file excluded)
     * @param verified     true if the target was read back and matched
     * @param elapsed      wall time
     * @param lost         with ignoreErrors, one line per chunk that could not be read and was
     *                     written as zeros (its byte range and why), in device order
     */
    public record Result(long bytesWritten, boolean verified, Duration elapsed, List<String> lost) {
        /** Copies the list. */
        public Result {
            lost = List.copyOf(lost);
        }
    }

    /**
     * @param repo     an open repository
     * @param threads  worker threads
     * @param progress told about bytes written
     */
    public RestoreEngine(Repository repo, int threads, ProgressListener progress) {
        this.repo = repo;
        this.threads = threads;
        this.progress = progress;
    }

    /**
     * @param repo an open repository
     * @return an engine with one thread per core and no progress
     */
    public static RestoreEngine of(Repository repo) {
        return new RestoreEngine(repo, Pipeline.defaultThreads(), ProgressListener.NONE);
    }

    /**
     * @param m      the backup
     * @param device the device name as recorded, or null if the backup has one device
     * @return that device
     * @throws BackupException if there is no such device
     */
    public static Manifest.DeviceImage select(Manifest m, String device) throws BackupException {
        if (device == null) {
            if (m.devices().size() == 1) {
                return m.devices().getFirst();
            }
            throw new BackupException("backup " + m.id() + " holds " + m.devices().size() + " devices ("
                    + names(m.devices()) + "): say which with --device");
        }
        Manifest.DeviceImage d = m.device(device);
        if (d == null) {
            throw new BackupException("backup " + m.id() + " holds no device " + device + " (it holds "
                    + names(m.devices()) + ")");
        }
        return d;
    }

    private static String names(List<Manifest.DeviceImage> ds) {
        return String.join(", ", ds.stream().map(Manifest.DeviceImage::name).toList());
    }

    /**
     * @param m      the backup
     * @param image  the device of it to restore
     * @param target an existing block device, or a file created or (if the
     *               target allows it) replaced
     * @param verify read the target back, bypassing the page cache, and compare
     * @return what was done
     * @throws BackupException if the target is unsuitable or a chunk is missing or damaged
     * @throws IOException if writing fails
     */
    public Result restore(Manifest m, Manifest.DeviceImage image, RestoreTarget target, boolean verify)
            throws IOException {
        return restore(m, image, target, verify, false);
    }

    /**
     * @param m            the backup
     * @param image        the device of it to restore
     * @param target       an existing block device, or a file created or (if the target allows it) replaced
     * @param verify       read the target back, bypassing the page cache, and compare (lost chunks excepted)
     * @param ignoreErrors write a missing or damaged chunk as zeros and go on, instead of failing
     * @return what was done, with the chunks lost
     * @throws BackupException if the target is unsuitable, or a chunk is missing or damaged and
     *                         errors are not ignored
     * @throws IOException if writing fails
     */
    public Result restore(Manifest m, Manifest.DeviceImage image, RestoreTarget target, boolean verify,
            boolean ignoreErrors) throws IOException {
        long t0 = System.nanoTime();
        java.util.SortedMap<Integer, String> lost = new java.util.concurrent.ConcurrentSkipListMap<>();
        this.lost = ignoreErrors ? lost : null;
        long written = switch (target) {
            case RestoreTarget.BlockDevice d -> restoreToDevice(image, d, verify, lost.keySet());
            case RestoreTarget.File f -> restoreToFile(image, f, verify, lost.keySet());
        };
        return new Result(written, verify, Duration.ofNanos(System.nanoTime() - t0), List.copyOf(lost.values()));
    }

    private long restoreToDevice(Manifest.DeviceImage image, RestoreTarget.BlockDevice target, boolean verify,
            java.util.Set<Integer> lost) throws IOException {
        Path dev = target.device();
        Targets.requireUnused(dev);
        long size = Targets.sizeBytes(dev);
        if (size < image.sizeBytes()) {
            throw new BackupException(target.given() + " is too small: " + size + " bytes, the backup of "
                    + image.name() + " needs " + image.sizeBytes());
        }
        // The exclusive open is the real guard (a mount or another claim
        // between the check above and now makes it fail); writing through
        // /proc/self/fd reaches the very device that was claimed, even if
        // the node is replaced meanwhile.
        try (ExclusiveDevice claim = ExclusiveDevice.open(target.given(), dev)) {
            long written;
            try (TargetWriter out = TargetWriter.device(claim.procPath(), target.given(), repo.chunkSize())) {
                written = write(image, out, true);
            }
            if (verify) {
                compare(image, claim.procPath(), target.given(), lost);
            }
            return written;
        }
    }

    private long restoreToFile(Manifest.DeviceImage image, RestoreTarget.File target, boolean verify,
            java.util.Set<Integer> lost) throws IOException {
        Path given = target.given();
        Path partial = given.resolveSibling(given.getFileName() + ".blksnap-partial");
        long written;
        // A leftover of an earlier restore may be there; it is ours to remove
        // (a symbolic link is removed, not followed), and CREATE_NEW makes
        // sure the file written is the one created here.
        Files.deleteIfExists(partial);
        try {
            try (TargetWriter out = TargetWriter.createFile(partial, image.sizeBytes(), repo.chunkSize())) {
                if (verify) {
                    // Refused before writing, not after: the read-back must not come from the page cache.
                    DirectReader.probe(partial, given);
                }
                written = write(image, out, false);
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(partial);
            throw e;
        }
        Files.move(partial, given, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        if (verify) {
            compare(image, given, given, lost);
        }
        return written;
    }

    /** Memory for the runs in flight of one restore or verify, whatever the thread count. */
    static final int RUN_MEMORY = 96 << 20;

    /**
     * @param threads   worker threads
     * @param chunkSize the repository's
     * @return bytes per run buffer: {@link PackRuns#DEFAULT_MAX_BYTES}, less when many
     *         threads would make the pipeline's buffers exceed {@link #RUN_MEMORY}, and never less
     *         than a chunk with room for its frame's overhead
     */
    static int runBytes(int threads, int chunkSize) {
        int buffers = 2 * threads + 2;
        return Math.max(chunkSize + (64 << 10), Math.min(PackRuns.DEFAULT_MAX_BYTES, RUN_MEMORY / buffers));
    }

    private static final ThreadLocal<byte[]> PLAIN = ThreadLocal.withInitial(() -> new byte[0]);

    /**
     * @param bytes at least this many
     * @return the calling worker's buffer for one chunk's plain bytes
     */
    static byte[] plainBuffer(int bytes) {
        byte[] b = PLAIN.get();
        if (b.length < bytes) {
            b = new byte[bytes];
            PLAIN.set(b);
        }
        return b;
    }

    /**
     * Writes every chunk of the device. The chunks are read in runs
     * ({@link PackRuns}), a {@link #WINDOW} of the device at a time: chunks
     * next to each other in a pack, as a full backup writes a device's, come
     * with one read of the store, so a restore from S3 makes one request per
     * run and not one per chunk; a chunk the device holds twice is read once. At most {@code threads} runs are read at once (one per
     * worker), and the pipeline's buffers, of {@link #runBytes} each, bound the
     * memory.
     */
    private long write(Manifest.DeviceImage image, TargetWriter out, boolean zeros) throws IOException {
        int cs = repo.chunkSize();
        AtomicLong written = new AtomicLong();
        progress.start(image.name(), image.sizeBytes());
        int runBytes = runBytes(threads, cs);
        PackRuns runs = new PackRuns(runBytes, PackRuns.DEFAULT_MAX_GAP);
        ChunkIndex index = repo.index();
        byte[] zero = new byte[cs];
        List<PackRuns.Wanted> window = new java.util.ArrayList<>(WINDOW);
        try (Pipeline pipeline = new Pipeline(threads, runBytes)) {
            ChunkIds chunks = image.chunks();
            Repository.RunSink sink = new Repository.RunSink() {
                @Override
                public void chunk(PackRuns.Wanted w, byte[] plain, int n) throws IOException {
                    long offset = (long) w.tag() * cs;
                    int len = (int) Math.min(cs, image.sizeBytes() - offset);
                    if (n != len) {
                        damaged(w, new ChunkException(w.id(), "chunk " + w.id() + " holds " + n + " bytes, the "
                                + "backup of " + image.name() + " expects " + len + " at byte " + offset));
                        return;
                    }
                    put(out, plain, offset, len, written, image);
                }

                @Override
                public void damaged(PackRuns.Wanted w, ChunkException e) throws IOException {
                    long offset = (long) w.tag() * cs;
                    int len = (int) Math.min(cs, image.sizeBytes() - offset);
                    lose(w.tag(), offset, len, e);
                    put(out, zero, offset, len, written, image);
                }
            };
            for (int i = 0; i < chunks.size(); i++) {
                ChunkId id = chunks.get(i);
                long offset = i * (long) cs;
                int len = (int) Math.min(cs, image.sizeBytes() - offset);
                if (id == null) {
                    if (zeros) {
                        byte[] buf = pipeline.acquire();
                        pipeline.submit(buf, () -> put(out, zero, offset, len, written, image));
                    } else {
                        progress.advance(image.name(), len);
                    }
                    continue;
                }
                ChunkIndex.Location loc = index.get(id);
                PackRuns.Wanted w = new PackRuns.Wanted(i, id, loc);
                if (loc == null) {
                    // Not in any pack: readChunk names it missing.
                    byte[] buf = pipeline.acquire();
                    pipeline.submit(buf, () -> {
                        try {
                            repo.readChunk(id, plainBuffer(cs));
                        } catch (ChunkException e) {
                            sink.damaged(w, e);
                        }
                    });
                    continue;
                }
                window.add(w);
                if (window.size() == WINDOW) {
                    submitWindow(pipeline, window, runs, sink);
                }
            }
            submitWindow(pipeline, window, runs, sink);
            pipeline.await();
            out.sync();
            progress.finish(image.name(), true);
        } catch (IOException | RuntimeException e) {
            progress.finish(image.name(), false);
            throw e;
        }
        return written.get();
    }

    /**
     * Chunks of the device taken together to be read in pack order: the
     * workers of a backup append chunks to a pack as they finish them, so
     * neighbours in the device are near each other in a pack but not always in
     * order. Within a window of the device the chunks are sorted by where they
     * are and read in runs; the writes are positional. 64 chunks (16 MiB at
     * 256 KiB): enough for a full's window to come in one or two runs, small
     * enough that the target is still written nearly in order (a window of the
     * whole 1 GiB device, written in pack order, made local restores slower:
     * 3.6-7.0 s against 2.2-3.6 s for the bench's mixed image, same load).
     */
    public static final int WINDOW = 64;

    private void submitWindow(Pipeline pipeline, List<PackRuns.Wanted> window, PackRuns runs,
            Repository.RunSink sink) throws IOException {
        window.sort(PackRuns.PACK_ORDER);
        for (PackRuns.Wanted w : window) {
            submit(pipeline, runs.add(w), sink);
        }
        submit(pipeline, runs.finish(), sink);
        window.clear();
    }

    private void submit(Pipeline pipeline, PackRuns.Run run, Repository.RunSink sink) throws IOException {
        if (run == null) {
            return;
        }
        byte[] buf = pipeline.acquire();
        pipeline.submit(buf, () -> repo.readRun(run, buf, plainBuffer(repo.chunkSize()), sink));
    }

    private void lose(int chunk, long offset, int len, ChunkException e) throws ChunkException {
        java.util.SortedMap<Integer, String> l = lost;
        if (l == null) {
            throw e;
        }
        l.put(chunk, "bytes " + offset + ".." + (offset + len - 1) + " written as zeros: " + e.getMessage());
    }

    private void put(TargetWriter out, byte[] data, long offset, int len, AtomicLong written,
            Manifest.DeviceImage image) throws IOException {
        out.write(data, len, offset);
        written.addAndGet(len);
        progress.advance(image.name(), len);
    }

    /**
     * Reads the target back with O_DIRECT, so that what is compared comes
     * from the device or the file system and not from the page cache the
     * restore just filled, and compares every chunk with the backup.
     *
     * @param image  the device of the backup
     * @param target what was restored
     * @param given  its name for messages
     * @throws BackupException at the first difference
     * @throws IOException if reading fails
     */
    public void compare(Manifest.DeviceImage image, Path target, Path given) throws IOException {
        compare(image, target, given, java.util.Set.of());
    }

    private void compare(Manifest.DeviceImage image, Path target, Path given, java.util.Set<Integer> skip)
            throws IOException {
        int cs = repo.chunkSize();
        byte[] buf = new byte[cs];
        try (DirectReader in = DirectReader.open(target, given, cs)) {
            for (int i = 0; i < image.chunks().size(); i++) {
                if (skip.contains(i)) {
                    continue;
                }
                long offset = (long) i * cs;
                int len = (int) Math.min(cs, image.sizeBytes() - offset);
                in.readFully(buf, len, offset);
                ChunkId want = image.chunks().get(i);
                boolean same = want == null ? ChunkCodec.isZero(buf, len) : want.equals(repo.chunkId(buf, len));
                if (!same) {
                    throw new BackupException(given + " differs from the backup of " + image.name()
                            + " at bytes " + offset + ".." + (offset + len - 1));
                }
            }
        }
    }
}
