package org.blksnap.itest.verify.faults;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.blksnap.itest.support.Shell;

/**
 * The kernel memory a module can leak, read from /proc/meminfo (bytes of
 * unreclaimable slab, vmalloc, shmem for tmpfs storage files, per-cpu) and
 * /proc/slabinfo (objects in use per cache; root only). Reclaimable caches
 * (dentries, inodes) are dropped first so they do not count, and every slab
 * cache is shrunk first: SLUB reports the free objects of a CPU's current
 * slab as in use until that slab is flushed, which made counts jump by a
 * slab's worth (dozens of objects) between readings.
 *
 * @param meminfo the meminfo fields of {@link #FIELDS}, in bytes
 * @param slabs   objects in use per slab cache
 */
record KernelMemory(Map<String, Long> meminfo, Map<String, Long> slabs) {
    static final List<String> FIELDS = List.of("SUnreclaim", "VmallocUsed", "Shmem", "Percpu");
    private static final Path SLAB_SYSFS = Path.of("/sys/kernel/slab");

    static KernelMemory read() throws IOException {
        try {
            // Removed disks release parts of themselves from workqueues and RCU callbacks.
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        Shell.sh("sync");
        Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3");
        try (DirectoryStream<Path> caches = Files.newDirectoryStream(SLAB_SYSFS)) {
            for (Path cache : caches) {
                // Merged caches appear once as a directory and again as links.
                if (!Files.isSymbolicLink(cache) && Files.exists(cache.resolve("shrink"))) {
                    Files.writeString(cache.resolve("shrink"), "1");
                }
            }
        }
        Map<String, Long> mem = new TreeMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            String[] w = line.split("[:\\s]+");
            if (FIELDS.contains(w[0])) {
                mem.put(w[0], Long.parseLong(w[1]) * 1024);
            }
        }
        Map<String, Long> slabs = new HashMap<>();
        for (String line : Files.readAllLines(Path.of("/proc/slabinfo"))) {
            if (line.startsWith("slabinfo") || line.startsWith("#")) {
                continue;
            }
            String[] w = line.trim().split("\\s+");
            slabs.merge(w[0], Long.parseLong(w[1]), Long::sum);
        }
        return new KernelMemory(mem, slabs);
    }

    /** Growth of each meminfo field from {@code before} to this, in bytes. */
    Map<String, Long> growthSince(KernelMemory before) {
        Map<String, Long> d = new TreeMap<>();
        meminfo.forEach((k, v) -> d.put(k, v - before.meminfo.getOrDefault(k, 0L)));
        return d;
    }

    /** The slab caches that hold at least {@code objects} more objects, with their growth. */
    Map<String, Long> slabsGrownSince(KernelMemory before, long objects) {
        Map<String, Long> d = new TreeMap<>();
        slabs.forEach((k, v) -> {
            long g = v - before.slabs.getOrDefault(k, 0L);
            if (g >= objects) {
                d.put(k, g);
            }
        });
        return d;
    }
}
