package org.blksnap.itest.cbt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Shell;
import org.blksnap.api.BlkSnap;
import org.blksnap.api.BlkSnapException;
import org.blksnap.api.CbtInfo;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.SnapshotId;
import org.blksnap.api.sys.Errno;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Module parameters: defaults, their effect on the block size, refusal of
 * impossible values, memory counters, and a map too big to allocate.
 */
class ModuleParamsIT {
    private static final long MIB = 1L << 20;
    private static final Path PARAMETERS = Path.of("/sys/module/blksnap/parameters");

    /** Leaves the module loaded with default parameters, whatever happened. */
    @AfterEach
    void restoreDefaults() throws IOException {
        if (Guest.moduleLoaded() && (Cbt.param("tracking_block_minimum_shift") != 16
                || Cbt.param("chunk_maximum_in_queue") != 256)) {
            Shell.sh("rmmod", "blksnap");
        }
        Guest.ensureModuleLoaded();
    }

    private static void reload(String... params) throws IOException {
        Shell.sh("rmmod", "blksnap");
        String[] cmd = new String[params.length + 2];
        cmd[0] = "insmod";
        cmd[1] = System.getenv("BLKSNAP_KO");
        System.arraycopy(params, 0, cmd, 2, params.length);
        Shell.sh(cmd);
    }

    @Test
    void defaults() throws IOException {
        assertEquals(16, Cbt.param("tracking_block_minimum_shift"));
        assertEquals(2_097_152, Cbt.param("tracking_block_maximum_count"));
        assertEquals(26, Cbt.param("tracking_block_maximum_shift"));
        // 256 chunks of the default 256 KiB: the default 64 MiB pool.
        assertEquals(256, Cbt.param("chunk_maximum_in_queue"));
        assertEquals(64, Cbt.param("chunk_maximum_buffer_mib"));
    }

    /**
     * Upstream's chunk_maximum_in_queue, which its scripts pass to modprobe
     * (16): taken at load and at run time, and the bound of the next
     * snapshot's devices on their chunks in memory (debugfs chunk_limit).
     * The module once dropped the parameter: insmod then warned, ignored it
     * and had no such file in sysfs.
     */
    @Test
    void upstreamChunkMaximumInQueueBoundsTheChunksInMemory() throws IOException {
        reload("chunk_maximum_in_queue=16");
        assertEquals(16, Cbt.param("chunk_maximum_in_queue"), "the value given at load");
        assertEquals(16, snapshotChunkLimit(), "a snapshot made after that load");

        Path p = PARAMETERS.resolve("chunk_maximum_in_queue");
        Files.writeString(p, "5");
        assertEquals("5", Files.readString(p).strip());
        assertEquals(5, snapshotChunkLimit(), "a snapshot made after the write");
        Files.writeString(p, "65536");
        assertEquals(65536, snapshotChunkLimit(), "the highest value");
    }

    /** Adds a 16 MiB loop device to a new snapshot, takes it and reads its device's debugfs chunk_limit. */
    private static long snapshotChunkLimit() throws IOException {
        try (LoopDevice loop = LoopDevice.create(16 * MIB); BlkSnap blksnap = BlkSnap.open()) {
            Cbt.attach(loop.device());
            SnapshotId id = blksnap.createSnapshot(DiffStorage.directory(Path.of("/tmp")), 64 * MIB / 512);
            try {
                try (Filter f = Filter.open(loop.device())) {
                    f.snapshotAdd(id);
                }
                blksnap.take(id);
                String[] words = Files.readString(Guest.DEBUGFS.resolve("snapshots")).split("\\s+");
                for (int i = 0; i + 1 < words.length; i++) {
                    if (words[i].equals("chunk_limit")) {
                        return Long.parseLong(words[i + 1]);
                    }
                }
                throw new IOException("debugfs snapshots shows no chunk_limit");
            } finally {
                blksnap.destroy(id);
                Cbt.detachQuietly(loop.device());
            }
        }
    }

    @Test
    void parametersChooseTheBlockSize() throws IOException {
        reload("tracking_block_minimum_shift=12", "tracking_block_maximum_count=1024",
                "tracking_block_maximum_shift=20");
        try (LoopDevice loop = LoopDevice.create(16 * MIB)) {
            Cbt.attach(loop.device());
            try {
                CbtInfo info = Cbt.info(loop.device());
                // 4 KiB gives 4096 blocks, 8 KiB 2048, 16 KiB the allowed 1024.
                assertEquals(16384, info.blockSize());
                assertEquals(1024, info.blockCount());
            } finally {
                Cbt.detachQuietly(loop.device());
            }
        }
        try (LoopDevice loop = LoopDevice.create(4096 * MIB)) {
            Cbt.attach(loop.device());
            try {
                CbtInfo info = Cbt.info(loop.device());
                assertEquals(1 * MIB, info.blockSize(), "capped by tracking_block_maximum_shift");
                assertEquals(4096, info.blockCount(), "more blocks than the maximum count once the shift is capped");
            } finally {
                Cbt.detachQuietly(loop.device());
            }
        }
    }

    @Test
    void impossibleValuesAreRefusedAtLoad() throws IOException {
        Shell.sh("rmmod", "blksnap");
        String ko = System.getenv("BLKSNAP_KO");
        for (String bad : new String[] {"tracking_block_minimum_shift=8", "tracking_block_maximum_shift=32",
                "tracking_block_maximum_count=0", "tracking_block_minimum_shift=20 tracking_block_maximum_shift=18",
                "chunk_maximum_in_queue=0", "chunk_maximum_in_queue=65537", "chunk_maximum_in_queue=-1",
                "chunk_maximum_in_queue=many"}) {
            String[] words = bad.split(" ");
            String[] cmd = new String[words.length + 2];
            cmd[0] = "insmod";
            cmd[1] = ko;
            System.arraycopy(words, 0, cmd, 2, words.length);
            Shell.Result r = Shell.run(cmd);
            assertFalse(r.ok(), "insmod accepted " + bad);
            assertFalse(Guest.moduleLoaded(), "module loaded with " + bad);
        }
    }

    /**
     * Parameters writable at run time refuse what the module cannot honour
     * with EINVAL and keep their value; a zero bound on the chunks in memory
     * (chunk_maximum_buffer_mib, once chunk_maximum_in_queue) used to be
     * taken and then made every first write wait until the snapshot went.
     */
    @Test
    void writableParametersRefuseBadValues() throws IOException {
        Map<String, String[]> bad = new LinkedHashMap<>();
        bad.put("chunk_maximum_buffer_mib", new String[] {"0", "65537", "-1"});
        bad.put("chunk_maximum_in_queue", new String[] {"0", "65537", "-1", "many"});
        bad.put("chunk_minimum_shift", new String[] {"0", "11", "31"});
        bad.put("chunk_maximum_shift", new String[] {"11", "31"});
        bad.put("chunk_maximum_count_shift", new String[] {"63", "1000"});
        bad.put("diff_storage_minimum", new String[] {"0", "7"});
        Map<String, String> before = new HashMap<>();
        for (String name : bad.keySet()) {
            before.put(name, Files.readString(PARAMETERS.resolve(name)).strip());
        }
        try {
            for (Map.Entry<String, String[]> e : bad.entrySet()) {
                Path p = PARAMETERS.resolve(e.getKey());
                for (String value : e.getValue()) {
                    IOException refused = assertThrows(IOException.class, () -> Files.writeString(p, value),
                            e.getKey() + "=" + value + " was accepted");
                    assertTrue(String.valueOf(refused.getMessage()).contains("Invalid argument"),
                            e.getKey() + "=" + value + ": " + refused);
                    assertEquals(before.get(e.getKey()), Files.readString(p).strip(), "value kept");
                }
                // The value it had is still a good one.
                Files.writeString(p, before.get(e.getKey()));
            }
            Files.writeString(PARAMETERS.resolve("chunk_maximum_buffer_mib"), "1");
            assertEquals("1", Files.readString(PARAMETERS.resolve("chunk_maximum_buffer_mib")).strip());
            Files.writeString(PARAMETERS.resolve("chunk_maximum_in_queue"), "1");
            assertEquals("1", Files.readString(PARAMETERS.resolve("chunk_maximum_in_queue")).strip());
        } finally {
            for (Map.Entry<String, String> e : before.entrySet()) {
                Files.writeString(PARAMETERS.resolve(e.getKey()), e.getValue());
            }
        }
    }

    @Test
    void memoryCounters() throws IOException {
        try (LoopDevice a = LoopDevice.create(64 * MIB); LoopDevice b = LoopDevice.create(192 * MIB)) {
            Cbt.attach(a.device());
            Cbt.attach(b.device());
            try {
                Map<String, Long> memory = new HashMap<>();
                for (String line : Files.readAllLines(Guest.DEBUGFS.resolve("memory"))) {
                    String[] w = line.split(" ");
                    memory.put(w[0], Long.parseLong(w[1]));
                }
                assertTrue(memory.get("trackers") >= 2, memory.toString());
                long blocks = Cbt.info(a.device()).blockCount() + Cbt.info(b.device()).blockCount();
                assertTrue(memory.get("cbt_bytes") >= 2 * blocks, memory.toString());
                assertTrue(memory.get("tracked_bytes") >= 256 * MIB, memory.toString());
                // Two maps of one byte per 64 KiB block.
                assertEquals(32768, memory.get("cbt_bytes_per_gib"), memory.toString());
            } finally {
                Cbt.detachQuietly(a.device());
                Cbt.detachQuietly(b.device());
            }
        }
    }

    /** A map that cannot be allocated fails the attach with ENOMEM and leaves nothing behind. */
    @Test
    void mapTooBigIsEnomem() throws IOException {
        reload("tracking_block_minimum_shift=9", "tracking_block_maximum_shift=9");
        // 3 Gi blocks of 512 bytes: more than kvmalloc will ever hand out.
        try (LoopDevice loop = LoopDevice.create(3L << 39)) {
            BlkSnapException e = assertThrows(BlkSnapException.class, () -> Cbt.attach(loop.device()));
            assertEquals(Errno.ENOMEM, e.errno(), e.getMessage());
            assertFalse(Guest.listed(Guest.deviceNumber(loop.device())));
        }
        try (LoopDevice small = LoopDevice.create(MIB)) {
            Cbt.attach(small.device());
            assertEquals(2048, Cbt.info(small.device()).blockCount());
            Cbt.detach(small.device());
        }
    }
}
