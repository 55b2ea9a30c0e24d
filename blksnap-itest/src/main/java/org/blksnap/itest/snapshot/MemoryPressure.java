package org.blksnap.itest.snapshot;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import org.blksnap.itest.support.Shell;

/**
 * The guest made short of memory, as a loaded server is: files on a tmpfs of
 * our own take memory until only a given amount is available (the guest has
 * no swap, so the kernel cannot reclaim those pages), then a buffered read of
 * a disk fills what is left with page cache, so that free memory is down to
 * the kernel's watermarks. Every allocation (the module's chunk pages among
 * them) then comes from reclaim of that cache: short, but never out of
 * memory, since clean cache can always be dropped. While it lasts, the
 * test's own JVM is the last process the OOM killer would choose.
 */
final class MemoryPressure implements AutoCloseable {
    private static final Path OOM_SCORE_ADJ = Path.of("/proc/self/oom_score_adj");
    private static final long MIB = 1L << 20;

    private final Path mount;
    private final String oomBefore;
    private int files;
    private FileChannel cached;

    private MemoryPressure(Path mount, String oomBefore) {
        this.mount = mount;
        this.oomBefore = oomBefore;
    }

    /**
     * Takes memory until about {@code leaveBytes} of MemAvailable is left,
     * then reads twice that of {@code cacheDisk} into the page cache.
     *
     * @throws IOException if the guest cannot get there (then nothing is kept)
     */
    static MemoryPressure leaving(long leaveBytes, Path cacheDisk) throws IOException, InterruptedException {
        if (!Files.exists(cacheDisk)) {
            throw new IOException("memory pressure needs the scratch disk " + cacheDisk + " for its page cache");
        }
        // Direct buffers the test dropped are freed only after a collection; freed
        // later, during the test, they would end the shortage it made.
        System.gc();
        Thread.sleep(500);
        String oomBefore = Files.readString(OOM_SCORE_ADJ).strip();
        Files.writeString(OOM_SCORE_ADJ, "-1000");
        Path dir = Files.createTempDirectory("itest-pressure");
        MemoryPressure p = new MemoryPressure(dir, oomBefore);
        try {
            // A size of the whole memory: the limit here is MemAvailable, not the mount's.
            Shell.sh("mount", "-t", "tmpfs", "-o", "size=100%", "itest-pressure", dir.toString());
            // One big step, then smaller ones as the page cache shrinks under it.
            for (long step = memAvailable() - leaveBytes - 256 * MIB; ; step = 16 * MIB) {
                long room = memAvailable() - leaveBytes;
                if (room < MIB) {
                    break;
                }
                p.take(Math.max(MIB, Math.min(step, room) & -MIB));
            }
            p.cache(cacheDisk, 2 * leaveBytes);
        } catch (IOException | RuntimeException e) {
            p.close();
            throw e;
        }
        return p;
    }

    /*
     * Read through a descriptor kept open: the last close of a block device
     * drops its page cache, which is why dd(1) would not do.
     */
    private void cache(Path disk, long bytes) throws IOException {
        cached = FileChannel.open(disk, StandardOpenOption.READ);
        ByteBuffer buf = ByteBuffer.allocateDirect((int) MIB);
        for (long done = 0; done < bytes; done += buf.position()) {
            buf.clear();
            if (cached.read(buf, done) <= 0) {
                break;
            }
        }
    }

    private void take(long bytes) throws IOException {
        // tmpfs allocates (and zeroes) the pages at fallocate; nothing is written from here.
        Shell.sh("fallocate", "-l", Long.toString(bytes), mount.resolve("fill-" + files++).toString());
    }

    /** MemAvailable of /proc/meminfo, in bytes. */
    static long memAvailable() throws IOException {
        return meminfo("MemAvailable");
    }

    /** MemFree of /proc/meminfo, in bytes: what can be had without reclaim. */
    static long memFree() throws IOException {
        return meminfo("MemFree");
    }

    private static long meminfo(String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith(key + ":")) {
                return Long.parseLong(line.replaceAll("\\D+", "")) * 1024;
            }
        }
        throw new IOException("/proc/meminfo has no " + key);
    }

    /** Pages the kernel has scanned to reclaim since boot, by kswapd and by allocating tasks. */
    static long pagesScanned() throws IOException {
        long sum = 0;
        for (String line : Files.readAllLines(Path.of("/proc/vmstat"))) {
            String[] f = line.split(" ");
            if (f[0].equals("pgscan_kswapd") || f[0].equals("pgscan_direct")) {
                sum += Long.parseLong(f[1]);
            }
        }
        return sum;
    }

    @Override
    public void close() throws IOException {
        try {
            if (cached != null) {
                cached.close();
            }
            Shell.run("umount", mount.toString());
            Files.deleteIfExists(mount);
        } finally {
            Files.writeString(OOM_SCORE_ADJ, oomBefore);
        }
    }
}
