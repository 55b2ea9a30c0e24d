package org.blksnap.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One fio job on one device, always with direct I/O and libaio, so the page
 * cache plays no part and every scenario sees the same queue depth.
 *
 * @param name           also the base name of its JSON output
 * @param device         the block device
 * @param rw             fio's rw, e.g. "randwrite" or "write:252k" (strided)
 * @param blockSize      bytes per I/O
 * @param size           the region from offset 0 the job works in
 * @param ioSize         bytes to transfer before stopping (size-bounded jobs), or 0 for one pass
 * @param runtimeSeconds time-bounded length, or 0 for a size-bounded job
 * @param rampSeconds    warm-up of a time-bounded job
 * @param iodepth        queue depth
 * @param options        further fio options, e.g. "--rwmixread=70"
 */
public record FioJob(String name, Path device, String rw, long blockSize, long size, long ioSize,
        int runtimeSeconds, int rampSeconds, int iodepth, List<String> options) {

    /** Validates the fields. */
    public FioJob {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(device, "device");
        Objects.requireNonNull(rw, "rw");
        options = List.copyOf(options);
        if (!name.matches("[a-z0-9][a-z0-9-]*")) {
            throw new IllegalArgumentException("fio job name must be a file-name-safe word: " + name);
        }
    }

    /** A job without further options. */
    public FioJob(String name, Path device, String rw, long blockSize, long size, long ioSize,
            int runtimeSeconds, int rampSeconds, int iodepth) {
        this(name, device, rw, blockSize, size, ioSize, runtimeSeconds, rampSeconds, iodepth, List.of());
    }

    /**
     * 4 KiB writes at random chunk starts, as many as a quarter of the
     * region's chunks. fio has no random map with an alignment, so a chunk
     * may be drawn twice: about 88% of the writes are first writes to their
     * chunk (the bench reports the share it got). The same seed gives the
     * same offsets on every device.
     *
     * @return the job
     */
    public static FioJob randomFirstWrites(String name, Path device, long chunkBytes, int iodepth, Profile p) {
        long chunks = p.regionBytes() / chunkBytes;
        long writes = Math.max(1, chunks / 4);
        return new FioJob(name, device, "randwrite", 4096, chunks * chunkBytes, writes * 4096, 0, 0, iodepth,
                List.of("--blockalign=" + chunkBytes, "--norandommap"));
    }

    /** @return a time-bounded 4 KiB random job reading {@code readPercent} of its I/Os, writing the rest */
    public static FioJob mixed(String name, Path device, int readPercent, Profile p) {
        return new FioJob(name, device, "randrw", 4096, p.regionBytes(), 0, p.runtimeSeconds(), p.rampSeconds(),
                p.iodepth(), List.of("--rwmixread=" + readPercent));
    }

    /** @return a time-bounded job over the profile's region (random workloads) */
    public static FioJob timed(String name, Path device, String rw, long blockSize, Profile p) {
        return new FioJob(name, device, rw, blockSize, p.regionBytes(), 0, p.runtimeSeconds(), p.rampSeconds(),
                p.iodepth());
    }

    /** @return a job that makes one pass over the profile's region (sequential workloads) */
    public static FioJob onePass(String name, Path device, String rw, long blockSize, Profile p) {
        return new FioJob(name, device, rw, blockSize, p.regionBytes(), 0, 0, 0, p.iodepth());
    }

    /**
     * A sequential job that writes one block at the start of every stride:
     * with the stride equal to the snapshot chunk, every write is the first
     * one to its chunk.
     *
     * @return the job
     */
    public static FioJob strided(String name, Path device, long blockSize, long stride, Profile p) {
        if (stride <= blockSize) {
            throw new IllegalArgumentException("stride " + stride + " must exceed the block size " + blockSize);
        }
        long writes = p.regionBytes() / stride;
        return new FioJob(name, device, "write:" + (stride - blockSize), blockSize, p.regionBytes(),
                writes * blockSize, 0, 0, p.iodepth());
    }

    /** @return the same job under another name on another device */
    public FioJob on(String newName, Path newDevice) {
        return new FioJob(newName, newDevice, rw, blockSize, size, ioSize, runtimeSeconds, rampSeconds, iodepth,
                options);
    }

    /** @return whether the job reads (else it writes); a mixed job does both */
    public boolean reads() {
        return rw.contains("read");
    }

    /** @return whether the job both reads and writes (its figures add both directions) */
    public boolean mixed() {
        return rw.endsWith("rw");
    }

    /** @return the options of this job for the fio command line (no output options) */
    public List<String> arguments() {
        List<String> a = new ArrayList<>(List.of(
                "--name=" + name, "--filename=" + device, "--direct=1", "--ioengine=libaio",
                "--iodepth=" + iodepth, "--rw=" + rw, "--bs=" + blockSize, "--offset=0", "--size=" + size,
                // The same random offsets for bare and filtered runs of a job.
                "--randrepeat=1", "--randseed=20261123"));
        if (ioSize > 0) {
            a.add("--io_size=" + ioSize);
        }
        if (runtimeSeconds > 0) {
            a.add("--time_based");
            a.add("--runtime=" + runtimeSeconds);
            if (rampSeconds > 0) {
                a.add("--ramp_time=" + rampSeconds);
            }
        }
        a.addAll(options);
        return a;
    }
}
