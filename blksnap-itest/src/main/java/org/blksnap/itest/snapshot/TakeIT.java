package org.blksnap.itest.snapshot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import org.blksnap.itest.support.Shell;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.SnapshotId;
import org.blksnap.api.sys.Errno;
import org.junit.jupiter.api.Test;

/** What a take does besides starting copy-on-write, and what it costs. */
class TakeIT {
    private static final DiffStorage TMP = DiffStorage.directory(Path.of("/tmp"));

    private static int changesNumber(Path device) throws Exception {
        try (Filter f = Filter.open(device)) {
            return f.cbtInfo().changesNumber();
        }
    }

    @Test
    void takeSwitchesTheCbtMapOfEveryDevice() throws Exception {
        try (Rig rig = new Rig()) {
            Path a = rig.loop(32L << 20);
            Path b = rig.loop(32L << 20);
            rig.attach(a).attach(b);
            int beforeA = changesNumber(a);
            int beforeB = changesNumber(b);
            SnapshotId id = rig.create(TMP, 1L << 20);
            for (Path d : List.of(a, b)) {
                try (Filter f = Filter.open(d)) {
                    f.snapshotAdd(id);
                }
            }
            assertEquals(beforeA, changesNumber(a), "adding does not switch");
            rig.blksnap().take(id);
            assertEquals(beforeA + 1, changesNumber(a));
            assertEquals(beforeB + 1, changesNumber(b));
        }
    }

    /**
     * A device that refuses to freeze fails the take with the freeze's errno and changes
     * nothing: the devices frozen before it are thawed. The module's fail_freeze knob makes
     * the refusal, because no real one works on every kernel: before 6.8 a filesystem frozen
     * by fsfreeze refused the take's freeze, since then the two freezes nest.
     */
    @Test
    void aFreezeFailureAbortsTheTakeCleanly() throws Exception {
        try (Rig rig = new Rig()) {
            Path a = rig.loop(64L << 20);
            Path b = rig.loop(64L << 20);
            GuestOs.mkfs("ext4", a);
            GuestOs.mkfs("ext4", b);
            Path mountedA = rig.mount(a, "ext4");
            Path mountedB = rig.mount(b, "ext4");
            rig.attach(a).attach(b);
            SnapshotId id = rig.create(TMP, 1L << 20);
            for (Path d : List.of(a, b)) {
                try (Filter f = Filter.open(d)) {
                    f.snapshotAdd(id);
                }
            }
            int before = changesNumber(a);
            // Devices freeze in the order they were added: a is frozen when b refuses.
            try (Filter f = Filter.open(b)) {
                Files.writeString(GuestOs.DEBUGFS.resolve("fail_freeze"), f.deviceNumber().toString());
            }
            try (RawSnapshot raw = new RawSnapshot()) {
                var r = raw.take(id);
                assertFalse(r.ok(), "take with a device that refuses to freeze");
                assertEquals(Errno.EBUSY, r.errno());
            }
            assertEquals(before, changesNumber(a), "the failed take switched nothing");
            assertEquals("", Rig.info(a).image(), "and made no image");
            // A write to a filesystem left frozen would wait for a thaw that never comes.
            Shell.Result w = Shell.run(Duration.ofSeconds(60), "dd", "if=/dev/zero",
                    "of=" + mountedA.resolve("after"), "bs=4096", "count=1", "conv=fsync");
            assertTrue(w.ok(), "a was thawed: " + w.output());

            rig.blksnap().take(id);
            assertEquals(before + 1, changesNumber(a), "the knob failed one freeze only");
            assertFalse(Rig.info(b).image().isEmpty());
            Data.writeFile(mountedB.resolve("after"), 4096, 1);
        }
    }

    /**
     * The debugfs counters the benchmark reads: chunk state exists only
     * for changed chunks, so memory follows the changes, not the size.
     */
    @Test
    void memoryGrowsWithChangedChunksOnly() throws Exception {
        try (Rig rig = new Rig()) {
            Path device = rig.loop(512L << 20);
            rig.snapshot(TMP, 1L << 20, device);
            assertEquals(0, changed(device), "nothing changed yet");
            List<Data.Write> writes = Stream.iterate(0L, o -> o + (8L << 20)).limit(10)
                    .map(o -> new Data.Write(o, 4096)).toList();
            Data.writeDirect(device, writes, 71);
            Data.writeDirect(device, writes, 72);
            assertEquals(10, changed(device), "one chunk per written place, however often written");
            String counters = Files.readString(GuestOs.DEBUGFS.resolve("snapshots"));
            long perChunk = Long.parseLong(field(counters, "bytes_per_changed_chunk"));
            assertTrue(perChunk > 0 && perChunk < 1024, counters);
            assertEquals(10 * perChunk, Long.parseLong(field(line(counters, device), "chunk_state_bytes")));
        }
    }

    private static long changed(Path device) throws Exception {
        return Long.parseLong(field(line(Files.readString(GuestOs.DEBUGFS.resolve("snapshots")), device),
                "changed"));
    }

    private static String line(String counters, Path device) throws Exception {
        String key;
        try (Filter f = Filter.open(device)) {
            key = "device " + f.deviceNumber() + " ";
        }
        return counters.lines().filter(l -> l.contains(key)).findFirst()
                .orElseThrow(() -> new AssertionError("no line for " + key + " in " + counters));
    }

    private static String field(String text, String name) {
        String[] w = text.strip().split("\\s+");
        for (int i = 0; i + 1 < w.length; i++) {
            if (w[i].equals(name)) {
                return w[i + 1];
            }
        }
        throw new AssertionError(name + " not in " + text);
    }
}
