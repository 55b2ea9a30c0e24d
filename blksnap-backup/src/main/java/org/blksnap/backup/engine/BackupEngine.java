package org.blksnap.backup.engine;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import org.blksnap.api.CbtChanges;
import org.blksnap.api.CbtInfo;
import org.blksnap.api.Extent;
import org.blksnap.api.Uuid;
import org.blksnap.backup.BackupException;
import org.blksnap.backup.repo.ChunkCodec;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.Repository;

/**
 * Makes one backup of every device of a {@link SnapshotSource}: full, or
 * incremental by change-block tracking when the device's tracker is in the
 * generation the previous backup of that device recorded. A full backup
 * reads whole chunks in device order on the calling thread and hashes,
 * compresses and stores them on a {@link Pipeline}. An incremental reads only
 * the changed CBT blocks, on the pipeline, over the previous backup's data of
 * their chunk; unchanged chunks keep their ids. The manifest is written after every chunk is durable
 * and the snapshot is known intact, so an interrupted backup leaves nothing
 * visible.
 */
public final class BackupEngine {
    /** The largest changes number; the take that reports it started a new generation. */
    private static final int WRAP_CHANGES_NUMBER = 255;
    private static final DateTimeFormatter ID_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
            .withZone(ZoneOffset.UTC);

    private final Repository repo;
    private final Options options;
    private final ProgressListener progress;
    private volatile boolean cancelled;

    /**
     * @param threads     worker threads (hash, compress, store)
     * @param zstdLevel   compression level
     * @param forceFull   ignore change tracking
     * @param tag         label stored in the manifest, or null
     * @param toolVersion version written to the manifest
     */
    public record Options(int threads, int zstdLevel, boolean forceFull, String tag, String toolVersion) {
        /** @return defaults: one thread per core, zstd level 1, incremental when possible */
        public static Options defaults() {
            return new Options(Pipeline.defaultThreads(), 1, false, null, "development");
        }

        /** @param full force a full backup @return a copy */
        public Options withFull(boolean full) {
            return new Options(threads, zstdLevel, full, tag, toolVersion);
        }

        /** @param label the tag @return a copy */
        public Options withTag(String label) {
            return new Options(threads, zstdLevel, forceFull, label, toolVersion);
        }

        /** @param version the tool version @return a copy */
        public Options withToolVersion(String version) {
            return new Options(threads, zstdLevel, forceFull, tag, version);
        }
    }

    /**
     * @param repo     a repository open for writing
     * @param options  options
     * @param progress told about bytes read
     */
    public BackupEngine(Repository repo, Options options, ProgressListener progress) {
        this.repo = repo;
        this.options = options;
        this.progress = progress;
    }

    /** Stops the running backup at its next chunk; nothing becomes visible. */
    public void cancel() {
        cancelled = true;
    }

    /**
     * @param source the snapshot to save (the caller closes it)
     * @return what was done
     * @throws BackupException if the backup cannot be made; the repository
     *                         is left as it was (new chunks unreferenced)
     * @throws IOException     if reading or storing fails
     */
    public BackupResult run(SnapshotSource source) throws IOException {
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        List<Manifest> history = repo.manifests();
        String id = ID_TIME.format(started) + "-" + String.format("%04x", ThreadLocalRandom.current().nextInt(1 << 16));
        List<Manifest.DeviceImage> images = new ArrayList<>();
        List<DeviceResult> results = new ArrayList<>();
        Set<String> names = new java.util.HashSet<>();
        try (Pipeline pipeline = new Pipeline(options.threads(), repo.chunkSize())) {
            Set<String> written = ConcurrentHashMap.newKeySet();
            for (SourceDevice d : source.devices()) {
                if (!names.add(d.name())) {
                    throw new BackupException(d.name() + " is given twice");
                }
                Plan plan = plan(d, history);
                DeviceRun run = new DeviceRun(d, plan, pipeline, written);
                results.add(run.execute());
                images.add(run.image(id));
            }
        }
        if (cancelled) {
            throw new BackupException("backup interrupted: nothing was saved");
        }
        source.checkIntact();
        Manifest m = new Manifest(Manifest.FORMAT, id, options.tag(), started.toString(), Instant.now().toString(),
                options.toolVersion(), repo.chunkSize(), images);
        repo.putManifest(m);
        return new BackupResult(id, results, Duration.ofNanos(System.nanoTime() - t0));
    }

    /** What to read of one device and where the rest comes from. */
    private record Plan(String mode, String reason, Manifest.DeviceImage parent, String parentId,
            List<Extent> changed) {
    }

    private Plan plan(SourceDevice d, List<Manifest> history) {
        Manifest parentManifest = null;
        Manifest.DeviceImage parent = null;
        for (int i = history.size() - 1; i >= 0 && parent == null; i--) {
            parent = history.get(i).device(d.name());
            parentManifest = history.get(i);
        }
        if (options.forceFull()) {
            return full("full backup asked for");
        }
        if (d.cbt() == null) {
            return full("full backup: the device has no change tracking");
        }
        if (parent == null) {
            return full("full backup: no earlier backup of " + d.name() + " in the repository");
        }
        if (parent.generationId() == null) {
            return full("full backup: the previous backup " + parentManifest.id() + " has no change tracking data");
        }
        if (parent.sizeBytes() != d.sizeBytes() || parentManifest.chunkSize() != repo.chunkSize()) {
            return full("full backup: the device size changed since backup " + parentManifest.id());
        }
        Uuid generation;
        try {
            generation = Uuid.parse(parent.generationId());
        } catch (IllegalArgumentException e) {
            return full("full backup: backup " + parentManifest.id() + " records a foreign generation id");
        }
        CbtChanges changes = d.cbt().changesSince(generation, parent.changesNumber());
        return switch (changes) {
            case CbtChanges.FullBackupNeeded f -> full(f.reason());
            case CbtChanges.Incremental inc -> new Plan("incremental", "incremental since backup "
                    + parentManifest.id() + ": " + inc.extents().size() + " changed extents, " + inc.bytes()
                    + " bytes", parent, parentManifest.id(), inc.extents());
        };
    }

    private static Plan full(String reason) {
        return new Plan("full", reason, null, null, null);
    }

    /**
     * Splits changed extents at chunk boundaries.
     *
     * @return per chunk index, the changed byte ranges inside it, in order
     */
    private java.util.SortedMap<Integer, List<Extent>> rangesByChunk(List<Extent> extents, long size) {
        java.util.SortedMap<Integer, List<Extent>> out = new java.util.TreeMap<>();
        long cs = repo.chunkSize();
        for (Extent e : extents) {
            long end = Math.min(e.end(), size);
            for (long off = e.offset(); off < end; ) {
                long chunkEnd = (off / cs + 1) * cs;
                long stop = Math.min(end, chunkEnd);
                out.computeIfAbsent((int) (off / cs), k -> new ArrayList<>()).add(new Extent(off, stop - off));
                off = stop;
            }
        }
        return out;
    }

    /** One device of a backup. */
    private final class DeviceRun {
        private final SourceDevice device;
        private final Plan plan;
        private final Pipeline pipeline;
        private final Set<String> written;
        private final String[] ids;
        private final AtomicLong chunksNew = new AtomicLong();
        private final AtomicLong chunksDedup = new AtomicLong();
        private final AtomicLong chunksZero = new AtomicLong();
        private final AtomicLong bytesStored = new AtomicLong();
        private final AtomicLong bytesRead = new AtomicLong();
        private long chunksRead;

        DeviceRun(SourceDevice device, Plan plan, Pipeline pipeline, Set<String> written) {
            this.device = device;
            this.plan = plan;
            this.pipeline = pipeline;
            this.written = written;
            this.ids = new String[Math.toIntExact(Math.ceilDiv(device.sizeBytes(), repo.chunkSize()))];
        }

        DeviceResult execute() throws IOException {
            // Per chunk to save: null to read it whole, else the changed
            // ranges to read over the previous backup's data of that chunk.
            java.util.SortedMap<Integer, List<Extent>> work = new java.util.TreeMap<>();
            long reused = 0;
            if (plan.parent() == null) {
                for (int i = 0; i < ids.length; i++) {
                    work.put(i, null);
                }
            } else {
                java.util.SortedMap<Integer, List<Extent>> changed = rangesByChunk(plan.changed(), device.sizeBytes());
                for (int i = 0; i < ids.length; i++) {
                    String prev = plan.parent().chunks().get(i);
                    // A chunk lost from the repository is read whole rather than referenced.
                    boolean prevUsable = prev == null || repo.hasChunk(prev);
                    if (changed.containsKey(i)) {
                        work.put(i, prevUsable ? changed.get(i) : null);
                    } else if (prevUsable) {
                        ids[i] = prev;
                        reused++;
                    } else {
                        work.put(i, null);
                    }
                }
            }
            long cs = repo.chunkSize();
            long total = 0;
            for (var w : work.entrySet()) {
                total += w.getValue() == null ? Math.min(cs, device.sizeBytes() - w.getKey() * cs)
                        : w.getValue().stream().mapToLong(Extent::length).sum();
            }
            progress.start(device.name(), total);
            try (FileChannel ch = FileChannel.open(device.image(), StandardOpenOption.READ)) {
                for (var w : work.entrySet()) {
                    if (cancelled) {
                        throw new BackupException("backup interrupted: nothing was saved");
                    }
                    int index = w.getKey();
                    long offset = index * cs;
                    int len = (int) Math.min(cs, device.sizeBytes() - offset);
                    List<Extent> ranges = w.getValue();
                    byte[] buf = pipeline.acquire();
                    chunksRead++;
                    if (ranges == null) {
                        try {
                            read(ch, buf, 0, len, offset);
                        } catch (IOException e) {
                            pipeline.release(buf);
                            throw e;
                        }
                        pipeline.submit(buf, () -> store(index, buf, len, len));
                    } else {
                        pipeline.submit(buf, () -> {
                            String prev = plan.parent().chunks().get(index);
                            if (prev == null) {
                                Arrays.fill(buf, 0, len, (byte) 0);
                            } else if (repo.readChunk(prev, buf) != len) {
                                throw new BackupException("chunk " + prev + " of backup " + plan.parentId()
                                        + " does not have the length of " + device.name() + "'s chunk " + index);
                            }
                            long n = 0;
                            for (Extent r : ranges) {
                                read(ch, buf, (int) (r.offset() - offset), (int) r.length(), r.offset());
                                n += r.length();
                            }
                            store(index, buf, len, n);
                        });
                    }
                }
                pipeline.await();
                progress.finish(device.name(), true);
            } catch (IOException | RuntimeException e) {
                progress.finish(device.name(), false);
                throw e;
            }
            return new DeviceResult(device.name(), plan.mode(), plan.reason(), device.sizeBytes(), bytesRead.get(),
                    chunksRead, chunksNew.get(), reused + chunksDedup.get(), chunksZero.get(), bytesStored.get());
        }

        private void read(FileChannel ch, byte[] buf, int at, int len, long offset) throws IOException {
            try {
                readFully(ch, buf, at, len, offset);
            } catch (IOException e) {
                throw new BackupException(device.name() + ": cannot read its snapshot image " + device.image()
                        + " at byte " + offset + ": " + e.getMessage(), e);
            }
        }

        private void store(int index, byte[] buf, int len, long read) throws IOException {
            bytesRead.addAndGet(read);
            if (ChunkCodec.isZero(buf, len)) {
                ids[index] = null;
                chunksZero.incrementAndGet();
            } else {
                String id = ChunkCodec.id(buf, len);
                if (written.add(id) && !repo.hasChunk(id)) {
                    ChunkCodec.Encoded enc = ChunkCodec.encode(buf, len, options.zstdLevel());
                    repo.putChunk(id, enc);
                    chunksNew.incrementAndGet();
                    bytesStored.addAndGet(enc.length());
                } else {
                    chunksDedup.incrementAndGet();
                }
                ids[index] = id;
            }
            progress.advance(device.name(), read);
        }

        Manifest.DeviceImage image(String backupId) {
            String generation = null;
            int changesNumber = 0;
            int blockSize = 0;
            if (device.cbt() != null) {
                CbtInfo info = device.cbt().info();
                generation = info.generationId().toString();
                // The take that wraps reports 255 in a new generation whose
                // blocks are stamped from 1 on: count the next changes from 0.
                changesNumber = info.changesNumber() == WRAP_CHANGES_NUMBER ? 0 : info.changesNumber();
                blockSize = info.blockSize();
            }
            return new Manifest.DeviceImage(device.name(), device.sizeBytes(), plan.mode(), plan.parentId(),
                    generation, changesNumber, blockSize, bytesRead.get(), Arrays.asList(ids));
        }
    }

    static void readFully(FileChannel ch, byte[] buf, int at, int len, long offset) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(buf, at, len);
        while (b.hasRemaining()) {
            int n = ch.read(b, offset + b.position() - at);
            if (n < 0) {
                throw new EOFException("unexpected end of data at byte " + (offset + b.position() - at));
            }
        }
    }
}
