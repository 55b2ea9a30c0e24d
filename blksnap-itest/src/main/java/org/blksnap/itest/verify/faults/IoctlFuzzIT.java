package org.blksnap.itest.verify.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.blksnap.api.BlkSnap;
import org.blksnap.api.DiffStorage;
import org.blksnap.api.Filter;
import org.blksnap.api.SnapshotId;
import org.blksnap.api.sys.Errno;
import org.blksnap.api.sys.Linux;
import org.blksnap.api.sys.SysResult;
import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Shell;
import org.blksnap.itest.support.Snapshots;
import org.blksnap.itest.verify.Evidence;
import org.blksnap.itest.verify.Evidence.Tally;
import org.junit.jupiter.api.Test;

/**
 * Table-driven ioctl fuzzer ({@link FuzzTable}): random commands of the
 * control device and of the block filter with random sizes, bad, unmapped,
 * misaligned and page-crossing pointers, huge counts, names and paths
 * without NUL, ids of destroyed snapshots; then the same calls racing with
 * destroy from other threads. Every errno must be one module/README.md
 * documents for the call, the kernel log must stay clean, nothing may be
 * left behind, and a normal snapshot must still work afterwards.
 *
 * <p>The seed is printed; {@code -Dblksnap.fuzz.seed=N} replays a run.
 */
class IoctlFuzzIT {
    private static final int CALLS = 10_000;
    private static final int RACE_ROUNDS = 25;
    private static final int RACERS = 2;
    /** Live snapshots the fuzzer keeps at most, so storage stays small. */
    private static final int MAX_LIVE = 4;
    /** A waiter must wake this soon after its snapshot is destroyed; far above any scheduling delay. */
    private static final long WAKE_BOUND_MS = 5_000;
    /** Sectors a storage file grows by during the fuzz: small, so many snapshots fit in the guest's /tmp. */
    private static final String SMALL_STEP = "256";

    private final List<String> failures = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong calls = new AtomicLong();
    /** Outcome counts by row name and result ("ok" or the errno name), to show what the fuzz reached. */
    private final Map<String, Map<String, LongAdder>> outcomes = new ConcurrentHashMap<>();

    @Test
    void onlyDocumentedErrnosAndNothingLeftBehind() throws Exception {
        long seed = Long.getLong("blksnap.fuzz.seed", new Random().nextLong());
        System.out.println("IoctlFuzzIT seed " + seed + " (replay: -Dblksnap.fuzz.seed=" + seed + ")");
        KernelLog log = KernelLog.mark("IoctlFuzzIT");
        Path dir = Files.createTempDirectory("blksnap-fuzz");
        String step = ModuleState.parameter("diff_storage_minimum");
        try (LoopDevice target = LoopDevice.create(64L << 20); LoopDevice storage = LoopDevice.create(16L << 20)) {
            ModuleState.parameter("diff_storage_minimum", SMALL_STEP);
            Path file = Files.createFile(dir.resolve("storage"));
            List<String> paths = List.of(dir.toString(), file.toString(), storage.path(), target.path(),
                    "/dev/null", dir.resolve("missing").toString(), file.resolve("below-a-file").toString());
            int blockCount;
            long sectors;
            try (Filter f = Filter.open(target.device())) {
                f.attach();
                blockCount = f.cbtInfo().blockCount();
                sectors = f.cbtInfo().capacityBytes() >> 9;
            }
            try {
                try (Doors doors = new Doors(target.device());
                        FuzzContext ctx = new FuzzContext(seed, paths, blockCount, sectors)) {
                    fuzz(doors, ctx);
                }
                race(target.device(), seed, paths, blockCount, sectors, dir);
            } finally {
                cleanUp(target.device());
                ModuleState.parameter("diff_storage_minimum", step);
            }
            Evidence.add(Tally.IOCTLS_FUZZED, calls.get());
            System.out.println("IoctlFuzzIT: " + calls.get() + " ioctls, " + failures.size() + " findings");
            outcomes.forEach((row, counts) -> System.out.println("  " + row + " " + new TreeMap<>(counts)));
            assertEquals(List.of(), failures.subList(0, Math.min(20, failures.size())),
                    failures.size() + " calls returned undocumented results (seed " + seed + ")");
            assertTrue(calls.get() >= CALLS, "only " + calls.get() + " calls made");
            // A fuzzer that only ever hits EFAULT proves nothing: the deep paths must have run too.
            for (FuzzTable.Row row : FuzzTable.rows()) {
                Map<String, LongAdder> got = outcomes.getOrDefault(row.name(), Map.of());
                assertTrue(got.keySet().stream().anyMatch(k -> !k.equals("EFAULT")),
                        row.name() + " never got past the argument copy: " + got);
            }
            for (String mustSucceed : List.of("IOCTL_BLKSNAP_SNAPSHOT_CREATE", "IOCTL_BLKSNAP_SNAPSHOT_TAKE",
                    "IOCTL_BLKSNAP_SNAPSHOT_DESTROY", "BLKFILTER_ATTACH", "BLKFILTER_DETACH",
                    "BLKFILTER_CTL(SNAPSHOTADD)", "BLKFILTER_CTL(CBTMAP)", "BLKFILTER_CTL(CBTDIRTY)")) {
                assertTrue(outcomes.getOrDefault(mustSucceed, Map.of()).containsKey("ok"),
                        mustSucceed + " never succeeded: " + outcomes.get(mustSucceed));
            }

            assertEquals(List.of(), Snapshots.list(), "the fuzzer left snapshots behind");
            assertNotAttached(target.device());
            assertNotAttached(storage.device());
            NormalSnapshot.check(target.device(), dir);
        } finally {
            Shell.run("rm", "-rf", dir.toString());
        }
        assertEquals(List.of(), log.failures(), "kernel log after the fuzzer");
    }

    private void fuzz(Doors doors, FuzzContext ctx) throws IOException {
        List<FuzzTable.Row> rows = FuzzTable.rows();
        for (int i = 0; i < CALLS; i++) {
            while (ctx.live.size() > MAX_LIVE) {
                SnapshotId id = ctx.live.removeFirst();
                assertEquals(0, doors.destroy(id).errno(), "destroy of live " + id);
                ctx.dead.add(id);
            }
            call(doors, ctx, rows.get(ctx.rng.nextInt(rows.size())), "#" + i);
        }
        for (SnapshotId id : ctx.live) {
            doors.destroy(id);
        }
    }

    /** Issues one fuzzed call and checks its result against the row. */
    private void call(Doors doors, FuzzContext ctx, FuzzTable.Row row, String which) {
        long request = row.request().next(ctx.rng);
        long arg = ctx.outer(row.size());
        boolean mapped = ctx.mapped(arg, row.size());
        StringBuilder desc = new StringBuilder();
        if (mapped) {
            row.filler().fill(ctx, ctx.at(arg, row.size()), desc);
        }
        SysResult r = Linux.ioctl(doors.fd(row.door()), request, arg);
        calls.incrementAndGet();
        outcomes.computeIfAbsent(row.name(), k -> new ConcurrentHashMap<>())
                .computeIfAbsent(r.ok() ? "ok" : Errno.name(r.errno()), k -> new LongAdder()).increment();
        String call = which + " " + row.name() + " request=0x" + Long.toHexString(request) + " arg=0x"
                + Long.toHexString(arg) + " " + desc;
        if (r.ok()) {
            if (mapped) {
                row.effect().apply(ctx, ctx.at(arg, row.size()));
            }
            return;
        }
        boolean outside = arg < ctx.memory.base() || arg >= ctx.memory.guard();
        if (!row.allows(r.errno())) {
            failures.add(call + " -> " + Errno.name(r.errno()) + ", allowed " + row.allowedNames());
        } else if (outside && row.argFirst() && r.errno() != Errno.EFAULT) {
            failures.add(call + " -> " + Errno.name(r.errno()) + ", expected EFAULT for an unreadable argument");
        }
    }

    /**
     * Rounds of: a snapshot of the target, maybe taken; a waiter with a long
     * timeout and fuzzing threads using its id; its destroy from this thread
     * after a random delay. The waiter must wake with ESRCH, every racing
     * call must end with a documented errno, and no thread may hang.
     */
    private void race(Path target, long seed, List<String> paths, int blockCount, long sectors, Path dir)
            throws Exception {
        Random rng = new Random(seed ^ 0x5eed);
        List<FuzzTable.Row> rows = FuzzTable.rows();
        try (Doors doors = new Doors(target); BlkSnap blksnap = BlkSnap.open()) {
            for (int round = 0; round < RACE_ROUNDS; round++) {
                Snapshots.destroyAll();
                try (Filter f = Filter.open(target)) {
                    if (!f.isAttached()) {
                        f.attach();
                    }
                    SnapshotId id = blksnap.createSnapshot(DiffStorage.directory(dir), 1L << 15);
                    f.snapshotAdd(id);
                    if (rng.nextBoolean()) {
                        blksnap.take(id);
                    }
                    AtomicBoolean stop = new AtomicBoolean();
                    AtomicLong woke = new AtomicLong();
                    SysResult[] waited = new SysResult[1];
                    Thread waiter = Thread.ofPlatform().start(() -> {
                        waited[0] = doors.waitEvent(id, 60_000);
                        woke.set(System.nanoTime());
                    });
                    List<Thread> racers = new ArrayList<>();
                    for (int k = 0; k < RACERS; k++) {
                        long racerSeed = rng.nextLong();
                        racers.add(Thread.ofPlatform().start(() -> {
                            try (FuzzContext ctx = new FuzzContext(racerSeed, paths, blockCount, sectors)) {
                                ctx.live.add(id);
                                for (int n = 0; !stop.get(); n++) {
                                    call(doors, ctx, rows.get(ctx.rng.nextInt(rows.size())), "race#" + n);
                                }
                            }
                        }));
                    }
                    Thread.sleep(rng.nextInt(30));
                    SysResult destroyed = doors.destroy(id);
                    long destroyedAt = System.nanoTime();
                    calls.incrementAndGet();
                    stop.set(true);
                    for (Thread t : racers) {
                        t.join(30_000);
                        assertFalse(t.isAlive(), "a racing ioctl hangs after destroy");
                    }
                    waiter.join(WAKE_BOUND_MS + 30_000);
                    assertFalse(waiter.isAlive(), "wait_event hangs after destroy");
                    if (destroyed.ok()) {
                        assertEquals(Errno.ESRCH, waited[0].errno(), "wait_event on a destroyed snapshot");
                        long lateMs = (woke.get() - destroyedAt) / 1_000_000;
                        assertTrue(lateMs < WAKE_BOUND_MS, "wait_event woke " + lateMs + " ms after destroy");
                    } else {
                        // A racer's fuzzed DESTROY got there first; DESTROY's
                        // errno for an unknown id is upstream's ENODEV.
                        assertEquals(Errno.ENODEV, destroyed.errno(), "destroy in race round " + round);
                    }
                    calls.incrementAndGet();
                }
            }
        }
    }

    private static void cleanUp(Path target) throws IOException {
        Snapshots.destroyAll();
        try (Filter f = Filter.open(target)) {
            if (f.isAttached()) {
                f.detach();
            }
        }
    }

    private static void assertNotAttached(Path device) throws IOException {
        try (Filter f = Filter.open(device)) {
            assertFalse(f.isAttached(), device + " still has the filter attached");
        }
    }

    /** The control device and the target, opened once for raw calls. */
    private static final class Doors implements AutoCloseable {
        private final int control;
        private final int block;
        private final RawIds ids = new RawIds();

        Doors(Path target) throws IOException {
            control = open(BlkSnap.CONTROL_DEVICE);
            block = open(target.toString());
        }

        private static int open(String path) throws IOException {
            SysResult r = Linux.open(path, Linux.O_RDWR | Linux.O_CLOEXEC);
            if (!r.ok()) {
                throw new IOException("open " + path + ": " + r);
            }
            return r.intValue();
        }

        int fd(FuzzTable.Door door) {
            return door == FuzzTable.Door.CONTROL ? control : block;
        }

        SysResult destroy(SnapshotId id) {
            return ids.destroy(control, id);
        }

        SysResult waitEvent(SnapshotId id, int timeoutMs) {
            return ids.waitEvent(control, id, timeoutMs);
        }

        @Override
        public void close() {
            Linux.close(control);
            Linux.close(block);
        }
    }
}
