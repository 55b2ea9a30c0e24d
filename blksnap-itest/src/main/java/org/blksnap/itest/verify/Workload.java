package org.blksnap.itest.verify;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Writer threads stamping random block ranges (4 KiB to 1 MiB, some of them
 * in a small hot area so the same blocks are overwritten often, some
 * discards) on one device or, in lockstep, on several: a request goes to
 * the first device and, once acknowledged, with the same sequence number to
 * the next. Every request is recorded in the devices' models before it is
 * issued and acknowledged after it returns.
 */
public final class Workload implements AutoCloseable {
    private static final int MAX_BLOCKS = 256;

    private final List<DeviceModel> models;
    private final List<Path> devices;
    private final boolean discards;
    private final AtomicLong seq = new AtomicLong();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final LongAdder requests = new LongAdder();
    private final List<Thread> threads = new ArrayList<>();

    /**
     * @param models   one per device, in lockstep order
     * @param devices  the devices
     * @param discards whether writers also discard (every device must support it)
     */
    public Workload(List<DeviceModel> models, List<Path> devices, boolean discards) {
        if (models.size() != devices.size() || models.isEmpty()) {
            throw new IllegalArgumentException("one model per device");
        }
        this.models = List.copyOf(models);
        this.devices = List.copyOf(devices);
        this.discards = discards;
    }

    /** Stamps every block of every model once, from one thread: the known state before the writers start. */
    public void fill() throws IOException {
        long region = models.getFirst().bytes();
        List<BlockDevice> open = openAll();
        try {
            ByteBuffer buf = BlockDevice.buffer(MAX_BLOCKS * Stamp.BLOCK);
            for (long off = 0; off < region; off += buf.capacity()) {
                issue(open, buf, Op.Kind.WRITE, 0, off, Math.min(buf.capacity(), region - off));
            }
        } finally {
            closeAll(open);
        }
    }

    /** Starts {@code writers} threads, each with its own random stream. */
    public void start(int writers, long seed) {
        for (int w = 1; w <= writers; w++) {
            int id = w;
            SplittableRandom random = new SplittableRandom(seed * 31 + w);
            threads.add(Thread.ofPlatform().name("stamp-writer-" + w).start(() -> run(id, random)));
        }
    }

    private void run(int writer, SplittableRandom random) {
        long region = models.getFirst().bytes();
        long blocks = region / Stamp.BLOCK;
        long hot = Math.max(MAX_BLOCKS, blocks / 16);
        try {
            List<BlockDevice> open = openAll();
            try {
                ByteBuffer buf = BlockDevice.buffer(MAX_BLOCKS * Stamp.BLOCK);
                while (!stop.get()) {
                    int roll = random.nextInt(100);
                    int n = roll < 60 ? 1 + random.nextInt(16) : roll < 90 ? 17 + random.nextInt(48)
                            : 65 + random.nextInt(MAX_BLOCKS - 64);
                    n = (int) Math.min(n, blocks);
                    long span = random.nextInt(4) == 0 ? Math.min(hot, blocks) : blocks;
                    long first = random.nextLong(span - n + 1);
                    Op.Kind kind = discards && random.nextInt(100) < 8 ? Op.Kind.DISCARD : Op.Kind.WRITE;
                    issue(open, buf, kind, writer, first * Stamp.BLOCK, (long) n * Stamp.BLOCK);
                }
            } finally {
                closeAll(open);
            }
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
    }

    private void issue(List<BlockDevice> open, ByteBuffer buf, Op.Kind kind, int writer, long offset, long length)
            throws IOException {
        long s = seq.incrementAndGet();
        for (int d = 0; d < open.size(); d++) {
            DeviceModel model = models.get(d);
            if (kind == Op.Kind.WRITE) {
                buf.clear().limit((int) length);
                for (long o = offset; o < offset + length; o += Stamp.BLOCK) {
                    model.stamp(o / Stamp.BLOCK, s, writer).encode(buf);
                }
                buf.flip();
            }
            Op op = new Op(kind, s, writer, offset, length, System.nanoTime());
            model.record(op);
            if (kind == Op.Kind.WRITE) {
                open.get(d).write(buf, offset);
            } else {
                open.get(d).discard(offset, length);
            }
            op.ack(System.nanoTime());
        }
        requests.increment();
    }

    /** Requests completed so far (a lockstep request counts once). */
    public long requests() {
        return requests.sum();
    }

    /** Rethrows the first writer failure, if any. */
    public void check() throws IOException {
        Throwable t = failure.get();
        if (t != null) {
            throw new IOException("a writer failed: " + t, t);
        }
    }

    private List<BlockDevice> openAll() throws IOException {
        List<BlockDevice> open = new ArrayList<>();
        try {
            for (Path p : devices) {
                open.add(BlockDevice.open(p));
            }
        } catch (IOException e) {
            closeAll(open);
            throw e;
        }
        return open;
    }

    private static void closeAll(List<BlockDevice> open) throws IOException {
        for (BlockDevice d : open) {
            d.close();
        }
    }

    /** Stops and joins the writers, then reports a writer failure. */
    @Override
    public void close() throws IOException {
        stop.set(true);
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while stopping the writers", e);
            }
        }
        check();
    }
}
