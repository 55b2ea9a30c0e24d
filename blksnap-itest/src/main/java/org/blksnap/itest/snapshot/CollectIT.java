package org.blksnap.itest.snapshot;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.SnapshotId;
import org.blksnap.api.Uuid;
import org.blksnap.api.sys.Abi;
import org.blksnap.api.sys.Errno;
import org.blksnap.api.sys.Ioctl;
import org.blksnap.api.sys.Linux;
import org.blksnap.api.sys.SysResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * IOCTL_BLKSNAP_SNAPSHOT_COLLECT exactly as upstream's kernel answers it, in
 * the call sequence of upstream's library (lib/blksnap Service, Collect):
 * a first call with count 0 and a null array only counts; an array that is
 * too small is filled as far as it goes, count says how far, and the call
 * fails with ENODATA.
 */
class CollectIT {
    private static final long COUNT = Abi.offset(Abi.BLKSNAP_SNAPSHOT_COLLECT, "count");
    private static final long IDS = Abi.offset(Abi.BLKSNAP_SNAPSHOT_COLLECT, "ids");
    private static final long UUID = Abi.BLKSNAP_UUID.byteSize();

    private final List<SnapshotId> created = new ArrayList<>();
    private int control = -1;

    /** What one raw call returned: its result, count afterwards, the array afterwards. */
    private record Collected(SysResult result, int count, List<Uuid> slots) {
    }

    @BeforeEach
    void open() {
        SysResult fd = Linux.open(BlkSnap.CONTROL_DEVICE, Linux.O_RDWR | Linux.O_CLOEXEC);
        assertTrue(fd.ok(), "open " + BlkSnap.CONTROL_DEVICE + ": " + fd);
        control = fd.intValue();
    }

    @AfterEach
    void cleanUp() throws Exception {
        try (BlkSnap blksnap = BlkSnap.open()) {
            for (SnapshotId id : created) {
                if (blksnap.collect().contains(id)) {
                    blksnap.destroy(id);
                }
            }
        } finally {
            Linux.close(control);
        }
    }

    private void createSnapshots(int n) throws Exception {
        try (BlkSnap blksnap = BlkSnap.open()) {
            for (int i = 0; i < n; i++) {
                created.add(blksnap.createSnapshot(DiffStorage.directory(Path.of("/tmp")), 1L << 20));
            }
        }
    }

    /**
     * One raw call. With {@code slots < 0} the array pointer is null; else an
     * array of that many ids, each first set to a pattern that no generated
     * UUID has, so that untouched slots can be told apart.
     */
    private Collected collect(int count, int slots) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ids = slots < 0 ? MemorySegment.NULL : arena.allocate(UUID * Math.max(slots, 1));
            ids.fill((byte) 0xa5);
            MemorySegment c = arena.allocate(Abi.BLKSNAP_SNAPSHOT_COLLECT);
            c.set(JAVA_INT, COUNT, count);
            c.set(JAVA_LONG, IDS, ids.address());
            SysResult r = Linux.ioctl(control, Ioctl.IOCTL_BLKSNAP_SNAPSHOT_COLLECT, c);
            List<Uuid> read = new ArrayList<>();
            for (int i = 0; i < slots; i++) {
                read.add(Uuid.read(ids, i * UUID));
            }
            return new Collected(r, c.get(JAVA_INT, COUNT), read);
        }
    }

    private static Uuid untouched() {
        byte[] b = new byte[Uuid.SIZE];
        java.util.Arrays.fill(b, (byte) 0xa5);
        return Uuid.of(b);
    }

    private Set<Uuid> createdUuids() {
        Set<Uuid> s = new HashSet<>();
        created.forEach(id -> s.add(id.uuid()));
        return s;
    }

    @Test
    void nullArrayOnlyCounts() throws Exception {
        createSnapshots(2);
        Collected first = collect(0, -1);
        assertTrue(first.result().ok(), "count-only call: " + first.result());
        assertTrue(first.count() >= 2, "count " + first.count());
        // The count given is not looked at when there is no array.
        Collected large = collect(1000, -1);
        assertTrue(large.result().ok(), large.result().toString());
        assertEquals(first.count(), large.count());
    }

    @Test
    void theUpstreamLibrarySequenceListsEverySnapshot() throws Exception {
        createSnapshots(3);
        Collected sizing = collect(0, -1);
        assertTrue(sizing.result().ok(), "sizing call: " + sizing.result());
        Collected filling = collect(sizing.count(), sizing.count());
        assertTrue(filling.result().ok(), "filling call: " + filling.result());
        assertEquals(sizing.count(), filling.count());
        assertTrue(new HashSet<>(filling.slots()).containsAll(createdUuids()), filling.slots().toString());
    }

    @Test
    void tooSmallAnArrayIsFilledAsFarAsItGoes() throws Exception {
        createSnapshots(3);
        int total = collect(0, -1).count();
        Collected partial = collect(2, 3);
        assertEquals(Errno.ENODATA, partial.result().errno(), partial.result().toString());
        assertEquals(2, partial.count(), "count is the number filled");
        Set<Uuid> all = new HashSet<>(collect(total, total).slots());
        assertTrue(all.contains(partial.slots().get(0)), "slot 0 holds a snapshot id");
        assertTrue(all.contains(partial.slots().get(1)), "slot 1 holds a snapshot id");
        assertEquals(untouched(), partial.slots().get(2), "nothing is written beyond count");
    }

    @Test
    void anEmptyArrayWithSnapshotsIsNoData() throws Exception {
        createSnapshots(1);
        Collected none = collect(0, 1);
        assertEquals(Errno.ENODATA, none.result().errno(), none.result().toString());
        assertEquals(0, none.count());
        assertEquals(untouched(), none.slots().get(0));
    }

    @Test
    void aLargerArrayIsFilledAndCountSaysHowMany() throws Exception {
        createSnapshots(2);
        int total = collect(0, -1).count();
        Collected big = collect(total + 4, total + 4);
        assertTrue(big.result().ok(), big.result().toString());
        assertEquals(total, big.count());
        assertEquals(untouched(), big.slots().get(total), "slots after count stay as they were");
    }
}
