package org.blksnap.backup.engine;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

import org.blksnap.api.CbtChanges;
import org.blksnap.api.CbtInfo;
import org.blksnap.api.Extent;
import org.blksnap.api.Uuid;
import org.blksnap.backup.BackupException;
import org.blksnap.backup.repo.BackupSummary;
import org.blksnap.backup.repo.ChunkCodec;
import org.blksnap.backup.repo.ChunkId;
import org.blksnap.backup.repo.ChunkIds;
import org.blksnap.backup.repo.ChunkIndex;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.PackWriter;
import org.blksnap.backup.repo.Repository;

/**
 * Makes one backup of every device of a {@link SnapshotSource}: full, or
 * incremental by change-block tracking when the device's tracker is in the
 * generation the previous backup of that device recorded.
 *
 * <p>Each device is read by a thread of its own, whole chunks in device
 * order, while worker threads hash, compress and append to pack files
 * (a fixed set of buffers bounds memory and lets reading run ahead of
 * hashing). An incremental reads every chunk a changed CBT block touches,
 * whole, from the snapshot image: reading it is cheaper than rebuilding it
 * from the repository. The other chunks keep the previous backup's ids,
 * copied from its manifest without reading the repository. The backup is
 * committed after every image was read and the snapshot is known intact, so
 * an interrupted backup leaves nothing visible.
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
     * @param tag         label stored with the backup, or null
     * @param toolVersion version written to the summary
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

        /** @param n worker threads @return a copy */
        public Options withThreads(int n) {
            return new Options(n, zstdLevel, forceFull, tag, toolVersion);
        }
    }

    /**
     * @param repo     a repository open for backup
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
     *                         is left as it was (new packs unreferenced)
     * @throws IOException     if reading or storing fails
     */
    public BackupResult run(SnapshotSource source) throws IOException {
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        List<BackupSummary> history = repo.summaries().backups();
        String id = ID_TIME.format(started) + "-" + String.format("%04x", ThreadLocalRandom.current().nextInt(1 << 16));
        Set<String> names = new HashSet<>();
        Set<String> keys = new HashSet<>();
        for (SourceDevice d : source.devices()) {
            if (!names.add(d.name()) || !keys.add(d.key())) {
                throw new BackupException(d.name() + " is given twice");
            }
        }
        ChunkIndex index = repo.index();
        Map<String, Manifest> parents = new HashMap<>();
        List<DeviceRun> runs = new ArrayList<>();
        for (SourceDevice d : source.devices()) {
            runs.add(new DeviceRun(d, plan(d, history, parents), index));
        }
        try (PackWriter packs = repo.newPackWriter();
                Pipeline pipeline = new Pipeline(options.threads(), repo.chunkSize(), runs.size())) {
            Set<ChunkId> claimed = ConcurrentHashMap.newKeySet();
            boolean read = false;
            try {
                if (runs.size() == 1) {
                    runs.getFirst().execute(pipeline, packs, claimed);
                } else {
                    readInParallel(runs, pipeline, packs, claimed);
                }
                pipeline.await();
                read = true;
            } finally {
                for (DeviceRun r : runs) {
                    if (r.started) {
                        progress.finish(r.device.name(), read);
                    }
                }
            }
            if (cancelled) {
                throw new BackupException("backup interrupted: nothing was saved");
            }
            source.checkIntact();
            List<BackupSummary.DeviceSummary> infos = new ArrayList<>();
            List<ChunkIds> ids = new ArrayList<>();
            List<DeviceResult> results = new ArrayList<>();
            for (DeviceRun r : runs) {
                infos.add(r.summary());
                ids.add(r.ids);
                results.add(r.result());
            }
            BackupSummary s = new BackupSummary(BackupSummary.FORMAT, id, options.tag(), started.toString(),
                    Instant.now().toString(), options.toolVersion(), repo.chunkSize(), infos);
            repo.commit(new Manifest(s, ids), packs);
            return new BackupResult(id, results, Duration.ofNanos(System.nanoTime() - t0));
        }
    }

    /** Devices of one snapshot read at once, each by its own thread. */
    private void readInParallel(List<DeviceRun> runs, Pipeline pipeline, PackWriter packs, Set<ChunkId> claimed)
            throws IOException {
        List<Thread> readers = new ArrayList<>();
        Map<DeviceRun, Throwable> failures = new ConcurrentHashMap<>();
        for (DeviceRun r : runs) {
            readers.add(Thread.ofPlatform().name("blksnap-read-" + r.device.name()).start(() -> {
                try {
                    r.execute(pipeline, packs, claimed);
                } catch (IOException | RuntimeException e) {
                    failures.put(r, e);
                    cancelled = true;
                }
            }));
        }
        try {
            for (Thread t : readers) {
                t.join();
            }
        } catch (InterruptedException e) {
            cancel();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
        for (DeviceRun r : runs) {
            switch (failures.get(r)) {
                case null -> { }
                case IOException e -> throw e;
                case RuntimeException e -> throw e;
                default -> throw new IllegalStateException(failures.get(r));
            }
        }
    }

    /** What to read of one device and where the rest comes from. */
    private record Plan(String mode, String reason, Manifest.DeviceImage parent, String parentId,
            List<Extent> changed) {
    }

    private Plan plan(SourceDevice d, List<BackupSummary> history, Map<String, Manifest> parents)
            throws IOException {
        BackupSummary parentSummary = null;
        BackupSummary.DeviceSummary parent = null;
        for (int i = history.size() - 1; i >= 0 && parent == null; i--) {
            int at = history.get(i).deviceIndex(d.identity(), d.name());
            if (at >= 0) {
                parentSummary = history.get(i);
                parent = parentSummary.devices().get(at);
            }
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
            return full("full backup: the previous backup " + parentSummary.id() + " has no change tracking data");
        }
        if (parent.sizeBytes() != d.sizeBytes() || parentSummary.chunkSize() != repo.chunkSize()) {
            return full("full backup: the device size changed since backup " + parentSummary.id());
        }
        Uuid generation;
        try {
            generation = Uuid.parse(parent.generationId());
        } catch (IllegalArgumentException e) {
            return full("full backup: backup " + parentSummary.id() + " records a foreign generation id");
        }
        CbtChanges changes = d.cbt().changesSince(generation, parent.changesNumber());
        if (changes instanceof CbtChanges.FullBackupNeeded f) {
            return full(f.reason());
        }
        CbtChanges.Incremental inc = (CbtChanges.Incremental) changes;
        String pid = parentSummary.id();
        Manifest pm = parents.get(pid);
        if (pm == null) {
            try {
                pm = repo.manifest(pid);
            } catch (BackupException e) {
                return full("full backup: the previous backup cannot be used (" + e.getMessage() + ")");
            }
            parents.put(pid, pm);
        }
        return new Plan("incremental", "incremental since backup " + pid + ": " + inc.extents().size()
                + " changed extents, " + inc.bytes() + " bytes", pm.device(parent.name()), pid, inc.extents());
    }

    private static Plan full(String reason) {
        return new Plan("full", reason, null, null, null);
    }

    /** One device of a backup. */
    private final class DeviceRun {
        private final SourceDevice device;
        private final Plan plan;
        private final ChunkIndex index;
        private final ChunkIds ids;
        private final int count;
        private final AtomicLong chunksNew = new AtomicLong();
        private final AtomicLong chunksDedup = new AtomicLong();
        private final AtomicLong chunksZero = new AtomicLong();
        private final AtomicLong bytesStored = new AtomicLong();
        private final AtomicLong bytesRead = new AtomicLong();
        private long chunksRead;
        private long reused;
        private volatile boolean started;

        DeviceRun(SourceDevice device, Plan plan, ChunkIndex index) {
            this.device = device;
            this.plan = plan;
            this.index = index;
            this.count = Math.toIntExact(Math.ceilDiv(device.sizeBytes(), repo.chunkSize()));
            this.ids = new ChunkIds(count);
        }

        /** @return the chunks to read; the others got their parent's id */
        private BitSet toRead() {
            BitSet read = new BitSet(count);
            if (plan.parent() == null) {
                read.set(0, count);
                return read;
            }
            long cs = repo.chunkSize();
            for (Extent e : plan.changed()) {
                long end = Math.min(e.end(), device.sizeBytes());
                if (end > e.offset()) {
                    read.set((int) (e.offset() / cs), (int) ((end - 1) / cs) + 1);
                }
            }
            ChunkIds prev = plan.parent().chunks();
            for (int i = read.nextClearBit(0); i < count; i = read.nextClearBit(i + 1)) {
                ChunkId p = prev.get(i);
                // A chunk lost from the repository is read again rather than referenced.
                if (p != null && !index.contains(p)) {
                    read.set(i);
                } else {
                    ids.set(i, p);
                    reused++;
                }
            }
            return read;
        }

        void execute(Pipeline pipeline, PackWriter packs, Set<ChunkId> claimed) throws IOException {
            BitSet work = toRead();
            long cs = repo.chunkSize();
            long total = 0;
            for (int i = work.nextSetBit(0); i >= 0; i = work.nextSetBit(i + 1)) {
                total += Math.min(cs, device.sizeBytes() - i * cs);
            }
            progress.start(device.name(), total);
            started = true;
            try (FileChannel ch = FileChannel.open(device.image(), StandardOpenOption.READ)) {
                for (int i = work.nextSetBit(0); i >= 0; i = work.nextSetBit(i + 1)) {
                    if (cancelled) {
                        throw new BackupException("backup interrupted: nothing was saved");
                    }
                    int chunk = i;
                    long offset = chunk * cs;
                    int len = (int) Math.min(cs, device.sizeBytes() - offset);
                    byte[] buf = pipeline.acquire();
                    try {
                        read(ch, buf, len, offset);
                    } catch (IOException e) {
                        pipeline.release(buf);
                        throw e;
                    }
                    chunksRead++;
                    bytesRead.addAndGet(len);
                    pipeline.submit(buf, () -> store(chunk, buf, len, packs, claimed));
                }
            }
        }

        private void read(FileChannel ch, byte[] buf, int len, long offset) throws IOException {
            try {
                readFully(ch, buf, 0, len, offset);
            } catch (IOException e) {
                throw new BackupException(device.name() + ": cannot read its snapshot image " + device.image()
                        + " at byte " + offset + ": " + e.getMessage(), e);
            }
        }

        private void store(int chunk, byte[] buf, int len, PackWriter packs, Set<ChunkId> claimed)
                throws IOException {
            if (ChunkCodec.isZero(buf, len)) {
                ids.set(chunk, null);
                chunksZero.incrementAndGet();
            } else {
                ChunkId id = repo.chunkId(buf, len);
                if (!index.contains(id) && claimed.add(id)) {
                    byte[] frame = Pipeline.frameBuffer(ChunkCodec.maxFrame(len));
                    int n = ChunkCodec.compress(buf, len, options.zstdLevel(), frame);
                    packs.add(id, frame, n, len);
                    chunksNew.incrementAndGet();
                    bytesStored.addAndGet(n);
                } else {
                    chunksDedup.incrementAndGet();
                }
                ids.set(chunk, id);
            }
            progress.advance(device.name(), len);
        }

        BackupSummary.DeviceSummary summary() {
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
            return new BackupSummary.DeviceSummary(device.name(), device.identity(), device.sizeBytes(), plan.mode(),
                    plan.parentId(),
                    generation, changesNumber, blockSize, bytesRead.get(), bytesStored.get(), count);
        }

        DeviceResult result() {
            return new DeviceResult(device.name(), plan.mode(), plan.reason(), device.sizeBytes(), bytesRead.get(),
                    chunksRead, chunksNew.get(), reused + chunksDedup.get(), chunksZero.get(), bytesStored.get());
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
