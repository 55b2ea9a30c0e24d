package org.blksnap.backup.engine;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Chunk work spread over a fixed set of worker threads, with a fixed set of
 * chunk buffers: the producer blocks when every buffer is in use, so memory
 * stays at {@code buffers x bufferSize} whatever the device size. The first
 * failure stops the producer at its next call.
 */
final class Pipeline implements AutoCloseable {
    /** Work on one buffer. */
    interface Task {
        void run() throws IOException;
    }

    private final ExecutorService workers;
    private final BlockingQueue<byte[]> free;
    private final int buffers;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    /**
     * @param threads    worker threads
     * @param bufferSize bytes per buffer
     */
    Pipeline(int threads, int bufferSize) {
        this(threads, bufferSize, 1);
    }

    /**
     * @param threads    worker threads
     * @param bufferSize bytes per buffer
     * @param producers  threads that fill buffers at once
     */
    Pipeline(int threads, int bufferSize, int producers) {
        this.workers = Executors.newFixedThreadPool(threads, Thread.ofPlatform().daemon().name("blksnap-chunk-", 0)
                .factory());
        // Two per worker (one worked on, one waiting) and two per producer
        // (one being filled, one queued): reading runs ahead of hashing.
        this.buffers = 2 * threads + 2 * producers;
        this.free = new ArrayBlockingQueue<>(buffers);
        for (int i = 0; i < buffers; i++) {
            free.add(new byte[bufferSize]);
        }
    }

    private static final ThreadLocal<byte[]> FRAMES = ThreadLocal.withInitial(() -> new byte[0]);

    /**
     * @param bytes at least this many
     * @return a scratch buffer of the calling worker thread
     */
    static byte[] frameBuffer(int bytes) {
        byte[] b = FRAMES.get();
        if (b.length < bytes) {
            b = new byte[bytes];
            FRAMES.set(b);
        }
        return b;
    }

    /** @return threads to use by default: one per core */
    static int defaultThreads() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    /**
     * @return a free buffer, waiting for one
     * @throws IOException the first failure of a task, or if interrupted
     */
    byte[] acquire() throws IOException {
        rethrow();
        try {
            byte[] b = free.take();
            rethrow();
            return b;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
    }

    /** @param buffer a buffer the producer will not submit */
    void release(byte[] buffer) {
        free.add(buffer);
    }

    /**
     * Runs a task on a worker; the buffer is free again when it ends.
     *
     * @param buffer from {@link #acquire}
     * @param task   the work
     */
    void submit(byte[] buffer, Task task) {
        workers.execute(() -> {
            try {
                if (failure.get() == null) {
                    task.run();
                }
            } catch (IOException | RuntimeException | Error e) {
                failure.compareAndSet(null, e);
            } finally {
                free.add(buffer);
            }
        });
    }

    /**
     * Waits for every submitted task.
     *
     * @throws IOException the first failure of a task
     */
    void await() throws IOException {
        try {
            // Holding every buffer at once proves every task has returned its own.
            byte[][] all = new byte[buffers][];
            for (int i = 0; i < buffers; i++) {
                all[i] = free.take();
            }
            for (byte[] b : all) {
                free.add(b);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted");
        }
        rethrow();
    }

    private void rethrow() throws IOException {
        Throwable t = failure.get();
        switch (t) {
            case null -> { }
            case IOException e -> throw e;
            case RuntimeException e -> throw e;
            case Error e -> throw e;
            default -> throw new IOException(t);
        }
    }

    @Override
    public void close() {
        workers.shutdownNow();
        try {
            workers.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
