package org.blksnap.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.BackupResult;
import org.blksnap.backup.engine.Checker;
import org.blksnap.backup.engine.MaxUnused;
import org.blksnap.backup.engine.ProgressListener;
import org.blksnap.backup.engine.Pruner;
import org.blksnap.backup.engine.SourceDevice;
import org.blksnap.backup.engine.RestoreEngine;
import org.blksnap.backup.engine.RestoreTarget;
import org.blksnap.backup.engine.Verifier;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.ChunkStore.Kind;
import org.blksnap.backup.repo.ChunkStore.LockMode;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.Repository;
import org.blksnap.backup.repo.RepositoryBusyException;
import org.blksnap.backup.repo.s3.S3Options;
import org.blksnap.backup.repo.s3.S3Store;
import org.blksnap.backup.retention.RetentionPolicy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import software.amazon.awssdk.services.s3.S3Client;

/** The engine on a real S3 server (S3Proxy on loopback), with a misbehaving network in front of it. */
class S3RepositoryTest {
    private static S3Server server;

    @TempDir
    Path dir;

    private final List<String> notices = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        server = new S3Server();
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    private S3Options options() {
        return S3Server.testOptions().withNotices(notices::add);
    }

    private S3Store store(String repo) {
        return S3Server.store(repo, options());
    }

    private static BackupResult backup(S3Store store, SourceDevice... devices) throws IOException {
        try (Repository repo = Fixture.openForBackup(store)) {
            return new BackupEngine(repo, BackupEngine.Options.defaults(), ProgressListener.NONE)
                    .run(Images.source(devices));
        }
    }

    private byte[] restore(S3Store store, String backup) throws IOException {
        Path out = Files.createTempFile(dir, "restored-", ".img");
        try (Repository repo = Repository.open(store, LockMode.SHARED)) {
            Manifest m = repo.manifest(backup);
            RestoreEngine.of(repo).restore(m, RestoreEngine.select(m, null), RestoreTarget.of(out, true), true);
        }
        return Files.readAllBytes(out);
    }

    private static Checker.Report check(S3Store store, boolean repair) throws IOException {
        try (Repository repo = Repository.open(store, repair ? LockMode.EXCLUSIVE : LockMode.SHARED)) {
            return new Checker(repo, Verifier.of(repo)).check(100, repair);
        }
    }

    @Test
    void fullAndIncrementalBackupsRestoreVerifyCheckAndPruneOnS3() throws IOException {
        String repo = S3Server.freshRepo(server.port());
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(48 * Images.CHUNK, 7));
        byte[] state0 = vda.bytes();
        try (S3Store store = store(repo)) {
            BackupResult full = backup(store, vda.take());
            byte[] fresh = new byte[3 * Images.CHUNK];
            new Random(8).nextBytes(fresh);
            vda.write(5 * Images.CHUNK, fresh);
            BackupResult incr = backup(store, vda.take());
            assertTrue(incr.bytesRead() < full.bytesRead() / 4,
                    "the incremental reads only what changed: " + incr.bytesRead() + " of " + full.bytesRead());

            assertArrayEquals(state0, restore(store, full.backupId()));
            assertArrayEquals(vda.bytes(), restore(store, incr.backupId()));
            try (Repository r = Repository.open(store, LockMode.SHARED)) {
                Verifier.Report v = Verifier.of(r).verify(r.manifests(), true);
                assertTrue(v.clean(), v.problems().toString());
                assertEquals(2, v.backups());
            }
            Checker.Report c = check(store, false);
            assertTrue(c.clean(), c.toString());

            try (Repository r = Repository.open(store, LockMode.EXCLUSIVE)) {
                Pruner.Result pr = new Pruner(r).prune(1, 0, false);
                assertEquals(List.of(full.backupId()), pr.removed());
                assertTrue(pr.chunksRemoved() > 0, "the chunks only the first backup had are gone: " + pr);
            }
            assertArrayEquals(vda.bytes(), restore(store, incr.backupId()));
            assertTrue(check(store, false).clean());
            assertTrue(store.list(Kind.MANIFEST).equals(List.of(incr.backupId())));
        }
        try (S3Client raw = S3Server.client(server.port())) {
            String bucket = repo.split("/")[3];
            assertTrue(raw.listObjectsV2(r -> r.bucket(bucket).prefix("backups/host1/locks/")).contents().isEmpty(),
                    "every lock is released");
        }
    }

    /**
     * Three backups of a 32-chunk device: all chunks, then every even one, then every fourth odd one; the first
     * backup's packs end up half unused once it is pruned.
     *
     * @return the backups' ids, then the images they saved
     */
    private Map.Entry<List<String>, List<byte[]>> threeBackups(S3Store store, Fixture fx) throws IOException {
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"),
                new byte[RepackTest.CHUNKS * Images.CHUNK]);
        Random random = new Random(23);
        List<byte[]> states = new java.util.ArrayList<>();
        List<String> ids = new java.util.ArrayList<>();
        for (int step = 0; step < 3; step++) {
            for (int c = step == 2 ? 1 : 0; c < RepackTest.CHUNKS; c += step == 0 ? 1 : step == 1 ? 2 : 4) {
                byte[] fresh = new byte[Images.CHUNK];
                random.nextBytes(fresh);
                vda.write((long) c * Images.CHUNK, fresh);
            }
            ids.add(fx.backup(store, false, vda.take()).backupId());
            states.add(vda.bytes());
        }
        return Map.entry(ids, states);
    }

    /** Every listed backup restores to the image it saved; verify reads every chunk clean. */
    private void assertEveryBackupRestores(Fixture fx, S3Store store, List<String> ids, List<byte[]> states,
            String where) throws IOException {
        try (Repository rp = fx.open(store, LockMode.SHARED)) {
            Verifier.Report v = Verifier.of(rp).verify(rp.manifests(), true);
            assertTrue(v.clean(), where + ": " + v.problems());
            Set<String> listed = new java.util.HashSet<>();
            rp.summaries().backups().forEach(b -> listed.add(b.id()));
            assertTrue(listed.containsAll(ids.subList(1, 3)), where + ": " + listed);
            for (int i = 0; i < ids.size(); i++) {
                if (!listed.contains(ids.get(i))) {
                    continue;
                }
                Path out = Files.createTempFile(dir, "restored-", ".img");
                Manifest m = rp.manifest(ids.get(i));
                RestoreEngine.of(rp).restore(m, RestoreEngine.select(m, null), RestoreTarget.of(out, true), true);
                assertArrayEquals(states.get(i), Files.readAllBytes(out), where + ": backup " + i);
                Files.delete(out);
            }
        }
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "encrypted={0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void pruneRepacksPartlyUnusedPacksOnS3AndTheSpaceComesBack(boolean encrypted) throws IOException {
        String repo = S3Server.freshRepo(server.port());
        Fixture fx = new Fixture(dir.resolve("fx"), encrypted);
        try (S3Store store = store(repo)) {
            var backups = threeBackups(store, fx);
            List<String> ids = backups.getKey();
            long before = RepackTest.packBytes(store);
            Pruner.Result r;
            try (Repository rp = fx.open(store, LockMode.EXCLUSIVE)) {
                r = new Pruner(rp).prune(RepackTest.keepLast(2), RetentionPolicy.GroupBy.DEVICE, false,
                        new MaxUnused.Percent(0));
            }
            long after = RepackTest.packBytes(store);
            assertEquals(List.of(ids.get(0)), r.removed());
            assertTrue(r.garbage().packsRepacked() >= 6, r.toString());
            assertEquals(before - after, r.bytesFreed());
            assertTrue(before - after >= (RepackTest.CHUNKS / 2) * (long) Images.CHUNK,
                    "the 16 dead chunks' bytes came back: " + before + " -> " + after);
            try (Repository rp = fx.open(store, LockMode.SHARED)) {
                assertEquals(0, RepackTest.unusedBytes(rp));
                Checker.Report c = new Checker(rp, Verifier.of(rp)).check(100, false);
                assertTrue(c.clean(), c.toString());
            }
            assertEveryBackupRestores(fx, store, ids, backups.getValue(), "after the repack");
        }
    }

    /** Copies every object of a repository (plain: no keys) into another prefix. */
    private static void copyRepository(S3Store from, S3Store to) throws IOException {
        to.create();
        for (Kind k : List.of(Kind.PACK, Kind.INDEX, Kind.MANIFEST, Kind.SUMMARY, Kind.CONFIG)) {
            for (String name : from.list(k)) {
                byte[] b = from.get(k, name);
                to.put(k, name, b, b.length);
            }
        }
    }

    @Test
    void aRepackOnS3StoppedAtAnyStepLeavesARepositoryInWhichEveryBackupRestores() throws IOException {
        Fixture fx = new Fixture(dir.resolve("fx"), false);
        String baseRepo = S3Server.freshRepo(server.port());
        List<String> ids;
        List<byte[]> states;
        try (S3Store base = store(baseRepo)) {
            var backups = threeBackups(base, fx);
            ids = backups.getKey();
            states = backups.getValue();
        }
        int beforeIndex = 0;
        int afterIndex = 0;
        for (int n = 1; ; n++) {
            String repo = S3Server.freshRepo(server.port());
            try (S3Store base = store(baseRepo); S3Store s3 = store(repo)) {
                copyRepository(base, s3);
                CrashingChunkStore store = new CrashingChunkStore(s3, n);
                try (Repository rp = fx.open(store, LockMode.EXCLUSIVE)) {
                    new Pruner(rp).prune(RepackTest.keepLast(2), RetentionPolicy.GroupBy.DEVICE, false,
                            MaxUnused.DEFAULT);
                } catch (org.blksnap.backup.repo.LocalDirectoryStore.SimulatedCrash expected) {
                    // The point of the test.
                }
                if (!store.crashed()) {
                    break;
                }
                if (store.log.stream().anyMatch(l -> l.startsWith("put INDEX "))) {
                    afterIndex++;
                } else {
                    beforeIndex++;
                }
                String where = "crash at step " + n + " after " + store.log;
                Set<String> named = new java.util.HashSet<>();
                try (Repository rp = fx.open(s3, LockMode.SHARED)) {
                    for (String idx : rp.index().indexNames()) {
                        rp.readIndex(idx).forEach(p -> named.add(p.name()));
                    }
                }
                Set<String> present = Set.copyOf(s3.list(Kind.PACK));
                assertTrue(present.containsAll(named), where + ": an index names a pack that is gone");
                assertEveryBackupRestores(fx, s3, ids, states, where);

                try (Repository rp = fx.open(s3, LockMode.EXCLUSIVE)) {
                    new Pruner(rp).prune(RepackTest.keepLast(2), RetentionPolicy.GroupBy.DEVICE, false,
                            MaxUnused.DEFAULT);
                    assertEquals(ids.subList(1, 3), rp.manifests().stream().map(Manifest::id).toList(), where);
                }
                try (Repository rp = fx.open(s3, LockMode.SHARED)) {
                    long unused = RepackTest.unusedBytes(rp);
                    assertTrue(unused <= RepackTest.packBytes(s3) / 20, where + ": at most 5% unused: " + unused);
                    Checker.Report c = new Checker(rp, Verifier.of(rp)).check(100, false);
                    assertTrue(c.clean(), where + ": " + c);
                }
                assertEveryBackupRestores(fx, s3, ids, states, where + ", then a prune");
            }
        }
        // Before the new index: the summary, the manifest, each new pack started and published, the flush;
        // after it: each old index and each old pack deleted.
        assertTrue(beforeIndex >= 8 && afterIndex >= 5, "crash points: " + beforeIndex + " before the new index, "
                + afterIndex + " after");
        System.out.println("S3 repack crash points tried: " + beforeIndex + " before the new index, " + afterIndex
                + " after");
    }

    @Test
    void restoreAndVerifyReadRunsOfChunksNotChunksAndADamagedChunkInARunIsTheOnlyOneLost() throws IOException {
        String repo = S3Server.freshRepo(server.port());
        int chunks = 128;
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"),
                Images.content(chunks * Images.CHUNK, 21));
        long pack = 32L * Images.CHUNK;
        BackupResult full;
        try (S3Store store = store(repo)) {
            try (Repository r = Repository.openForBackup(store, Images.CHUNK, pack, Duration.ZERO)) {
                full = new BackupEngine(r, BackupEngine.Options.defaults(), ProgressListener.NONE)
                        .run(Images.source(vda.take()));
            }
            int packs = store.list(Kind.PACK).size();
            CountingStore counted = new CountingStore(store);
            Path out = dir.resolve("runs.img");
            try (Repository r = Repository.open(counted, LockMode.SHARED)) {
                Manifest m = r.manifest(full.backupId());
                new RestoreEngine(r, 2, ProgressListener.NONE).restore(m, RestoreEngine.select(m, null),
                        RestoreTarget.of(out, true), true);
                assertArrayEquals(vda.bytes(), Files.readAllBytes(out));
                // A full's chunks lie in its packs nearly in device order, but the engine's workers
                // finish them out of order, so a chunk near a window's edge may land in the next pack:
                // the bound is one read per pack met in each window of the device the restore sorts
                // (counted from where the chunks are), where one per chunk was made before.
                int pairs = packsPerWindow(r, m);
                assertTrue(pairs < chunks / 8, pairs + " (window, pack) pairs for " + chunks + " chunks in "
                        + packs + " packs: the full is not nearly in device order");
                assertTrue(counted.packReads() <= pairs, counted.packReads() + " reads of packs for "
                        + chunks + " chunks in " + packs + " packs, " + pairs + " (window, pack) pairs");
                int before = counted.packReads();
                Verifier.Report v = new Verifier(r, 2, ProgressListener.NONE).verify(r.manifests(), true);
                assertTrue(v.clean(), v.problems().toString());
                assertTrue(counted.packReads() - before <= packs, "verify read " + (counted.packReads() - before)
                        + " times for " + packs + " packs");
            }

            // Flip a byte of one chunk in the middle of a pack (the object replaced whole, as only a test may).
            String victim = store.list(Kind.PACK).getFirst();
            byte[] bytes = store.get(Kind.PACK, victim);
            int mid = bytes.length / 2;
            bytes[mid] ^= 0x40;
            store.put(Kind.PACK, victim, bytes, bytes.length);
            try (Repository r = Repository.open(store, LockMode.SHARED)) {
                Manifest m = r.manifest(full.backupId());
                RestoreEngine.Result res = new RestoreEngine(r, 2, ProgressListener.NONE).restore(m,
                        RestoreEngine.select(m, null), RestoreTarget.of(out, true), true, true);
                assertEquals(1, res.lost().size(), res.lost().toString());
                assertTrue(res.lost().getFirst().contains("checksum"), res.lost().getFirst());
                byte[] got = Files.readAllBytes(out);
                byte[] want = vda.bytes();
                int differing = 0;
                for (int c = 0; c < chunks; c++) {
                    if (!java.util.Arrays.equals(got, c * Images.CHUNK, (c + 1) * Images.CHUNK, want,
                            c * Images.CHUNK, (c + 1) * Images.CHUNK)) {
                        differing++;
                    }
                }
                assertEquals(1, differing, "only the damaged chunk differs");
                Verifier.Report v = new Verifier(r, 2, ProgressListener.NONE).verify(r.manifests(), true);
                assertEquals(1, v.problems().size(), v.problems().toString());
            }
        }
    }

    @Test
    void aPackOfSeveralPartsIsOneMultipartObjectReadByRanges() throws IOException {
        String repo = S3Server.freshRepo(server.port());
        byte[] data = new byte[(12 << 20) + 12345];
        new Random(3).nextBytes(data);
        try (S3Store store = S3Server.store(repo, options().withParts(5 << 20, 2))) {
            store.create();
            try (ChunkStore.ObjectWriter w = store.writer(Kind.PACK, "ab01")) {
                for (int at = 0; at < data.length; at += 100_000) {
                    w.write(data, at, Math.min(100_000, data.length - at));
                    assertEquals(-1, store.size(Kind.PACK, "ab01"), "invisible until published");
                }
                w.publish();
            }
            assertEquals(data.length, store.size(Kind.PACK, "ab01"));
            byte[] across = new byte[1 << 20];
            store.read(Kind.PACK, "ab01", (5 << 20) - 1000, across, 0, across.length);
            assertArrayEquals(java.util.Arrays.copyOfRange(data, (5 << 20) - 1000, (6 << 20) - 1000), across);
            assertThrows(java.io.EOFException.class, () -> store.read(Kind.PACK, "ab01", data.length - 10,
                    new byte[20], 0, 20));
            assertThrows(NoSuchFileException.class, () -> store.get(Kind.PACK, "ab02"));
            try (S3Client raw = S3Server.client(server.port())) {
                String etag = raw.headObject(r -> r.bucket(repo.split("/")[3])
                        .key("backups/host1/packs/ab/ab01")).eTag();
                assertTrue(etag.endsWith("-3\""), "three parts: " + etag);
            }

            try (ChunkStore.ObjectWriter w = store.writer(Kind.PACK, "cd01")) {
                w.write(data, 0, data.length);
            }
            assertEquals(-1, store.size(Kind.PACK, "cd01"), "an abandoned writer leaves no object");
            assertEquals(0, store.removeLeftovers(), "and no upload: it aborted its own");
        }
    }

    @Test
    void sharedAndExclusiveLocksOfTwoOwnersAndAWaiter() throws Exception {
        String repo = S3Server.freshRepo(server.port());
        try (S3Store a = store(repo); S3Store b = store(repo)) {
            a.create();
            ChunkStore.Lock sa = a.lock(LockMode.SHARED, Duration.ZERO);
            ChunkStore.Lock sb = b.lock(LockMode.SHARED, Duration.ZERO);
            {
                RepositoryBusyException e = assertThrows(RepositoryBusyException.class,
                        () -> b.lock(LockMode.EXCLUSIVE, Duration.ZERO));
                assertTrue(e.getMessage().contains("pid " + ProcessHandle.current().pid() + " (shared, since "),
                        e.getMessage());
                sa.close();
                sb.close();
            }
            ChunkStore.Lock ex = a.lock(LockMode.EXCLUSIVE, Duration.ZERO);
            RepositoryBusyException e = assertThrows(RepositoryBusyException.class,
                    () -> b.lock(LockMode.SHARED, Duration.ZERO));
            assertTrue(e.getMessage().contains("(exclusive, since ") && e.getMessage().contains("--lock-wait"),
                    e.getMessage());
            // Held across several heartbeats and past the staleness threshold: still live.
            Thread.sleep(4500);
            assertThrows(RepositoryBusyException.class, () -> b.lock(LockMode.SHARED, Duration.ZERO));
            Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(1000);
                    ex.close();
                } catch (Exception x) {
                    throw new IllegalStateException(x);
                }
            });
            long t0 = System.nanoTime();
            ChunkStore.Lock waited = b.lock(LockMode.EXCLUSIVE, Duration.ofSeconds(30));
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(900), "it waited");
            waited.close();
            assertTrue(notices.isEmpty(), notices.toString());
        }
    }

    @Test
    void aStaleLockIsExplainedAndRemovedAndBreakLockRemovesALiveOne() throws Exception {
        String repo = S3Server.freshRepo(server.port());
        String bucket = repo.split("/")[3];
        byte[] foreign = ("{\"host\":\"elsewhere\",\"pid\":4242,\"started\":\"2026-01-01T00:00:00Z\","
                + "\"mode\":\"EXCLUSIVE\",\"heartbeat\":\"2026-01-01T00:00:00Z\"}").getBytes();
        try (S3Store store = store(repo); S3Client raw = S3Server.client(server.port())) {
            store.create();
            raw.putObject(r -> r.bucket(bucket).key("backups/host1/locks/0123456789abcdef.json"),
                    software.amazon.awssdk.core.sync.RequestBody.fromBytes(foreign));
            RepositoryBusyException e = assertThrows(RepositoryBusyException.class,
                    () -> store.lock(LockMode.SHARED, Duration.ZERO));
            assertTrue(e.getMessage().contains("in use by elsewhere pid 4242 (exclusive, since 2026-01-01T00:00:00Z)")
                    && e.getMessage().contains("--break-lock"), e.getMessage());
            Thread.sleep(4500); // past staleAfter without a heartbeat
            store.lock(LockMode.EXCLUSIVE, Duration.ZERO).close();
            assertEquals(1, notices.size(), notices.toString());
            assertTrue(notices.getFirst().matches("removed a stale lock of s3:.* held by elsewhere pid 4242 "
                    + "\\(exclusive, since 2026-01-01T00:00:00Z\\): no heartbeat for \\d+ s"), notices.getFirst());

            raw.putObject(r -> r.bucket(bucket).key("backups/host1/locks/0123456789abcdef.json"),
                    software.amazon.awssdk.core.sync.RequestBody.fromBytes(foreign));
            notices.clear();
            try (S3Store breaker = S3Server.store(repo, options().withBreakLock(true))) {
                breaker.lock(LockMode.EXCLUSIVE, Duration.ZERO).close();
            }
            assertEquals(List.of("broke the lock of " + repo + " held by elsewhere pid 4242 (exclusive, since "
                    + "2026-01-01T00:00:00Z)"), notices);
        }
    }

    @Test
    void aBackupKilledMidUploadLeavesAValidRepository() throws Exception {
        String repo = S3Server.freshRepo(server.port());
        byte[] first = new byte[40 << 20];
        new Random(11).nextBytes(first);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), first);
        BackupResult r0;
        try (S3Store store = store(repo);
                Repository r = Repository.openForBackup(store, Images.CHUNK, S3KillTarget.PACK, Duration.ZERO)) {
            r0 = new BackupEngine(r, BackupEngine.Options.defaults(), ProgressListener.NONE)
                    .run(Images.source(vda.take()));
        }
        byte[] big = new byte[40 << 20];
        new Random(12).nextBytes(big);
        vda.write(0, big);
        String bucket = repo.split("/")[3];
        try (FaultProxy slow = new FaultProxy(server.port()); S3Client raw = S3Server.client(server.port())) {
            slow.delay(2);
            String java = ProcessHandle.current().info().command().orElseThrow();
            Process child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                    S3KillTarget.class.getName(), repo.replace(":" + server.port() + "/", ":" + slow.port() + "/"),
                    vda.file.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile())
                    .start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            // Killed once a pack of parts is complete and the next is being uploaded.
            int packsBefore = raw.listObjectsV2(q -> q.bucket(bucket).prefix("backups/host1/packs/")).keyCount();
            while (raw.listObjectsV2(q -> q.bucket(bucket).prefix("backups/host1/packs/")).keyCount() <= packsBefore
                    || uploads(raw, bucket) == 0) {
                assertTrue(child.isAlive(), "the child ended before it was killed: "
                        + Files.readString(dir.resolve("child.log")));
                assertTrue(System.nanoTime() < deadline, "the child uploaded no multipart pack in 120 s");
                Thread.sleep(50);
            }
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS));
            assertEquals(137, child.exitValue(), "killed by SIGKILL");
            // The pack being uploaded is an incomplete multipart upload: invisible, but its parts are stored.
            assertTrue(uploads(raw, bucket) >= 1, "the killed pack's multipart upload is open");

            try (S3Store store = store(repo)) {
                try (Repository r = Repository.open(store, LockMode.SHARED)) {
                    assertEquals(1, r.manifests().size(), "the killed backup is not visible");
                    assertTrue(Verifier.of(r).verify(r.manifests(), true).clean());
                }
                assertTrue(notices.stream().anyMatch(n -> n.contains("removed a stale lock")
                        && n.contains("that process is gone")), notices.toString());
                Checker.Report found = check(store, false);
                // The packs the killed backup completed; the one it was uploading is no object at all.
                assertTrue(found.problems().stream().allMatch(p -> p.contains("no index names")),
                        found.problems().toString());
                assertTrue(uploads(raw, bucket) >= 1, "shared commands leave other uploads alone");
                Checker.Report repaired = check(store, true);
                assertTrue(repaired.clean(), repaired.toString());
                assertEquals(0, uploads(raw, bucket), "the repository's owner aborted the killed upload");
                assertTrue(check(store, false).clean());
                assertArrayEquals(first, restore(store, r0.backupId()));
                BackupResult next = backup(store, vda.take());
                assertArrayEquals(vda.bytes(), restore(store, next.backupId()));
            }
        }
    }

    /** @return the incomplete multipart uploads under the test repositories' prefix */
    private static int uploads(S3Client raw, String bucket) {
        return raw.listMultipartUploads(q -> q.bucket(bucket).prefix("backups/host1/")).uploads().size();
    }

    @Test
    void throttlingAndCutConnectionsAreRetried() throws Exception {
        String repo = S3Server.freshRepo(server.port());
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(64 * Images.CHUNK, 9));
        try (FaultProxy faults = new FaultProxy(server.port())) {
            String viaFaults = repo.replace(":" + server.port() + "/", ":" + faults.port() + "/");
            faults.slowDown(6);
            faults.cut(6, 150_000);
            BackupResult r;
            try (S3Store store = store(viaFaults)) {
                r = backup(store, vda.take());
            }
            assertEquals(6, faults.slowedDown(), "every 503 was answered");
            assertTrue(faults.cutShort() >= 3, "connections were cut mid-transfer: " + faults.cutShort());
            faults.slowDown(4);
            faults.cut(6, 100_000);
            int cutBefore = faults.cutShort();
            try (S3Store store = store(viaFaults)) {
                assertArrayEquals(vda.bytes(), restore(store, r.backupId()));
                try (Repository rp = Repository.open(store, LockMode.SHARED)) {
                    assertTrue(Verifier.of(rp).verify(rp.manifests(), true).clean());
                }
            }
            assertEquals(10, faults.slowedDown());
            assertTrue(faults.cutShort() > cutBefore, "restore's reads were cut too");
        }
    }

    /** Distinct packs of each window of RestoreEngine's size, in device order, summed. */
    private static int packsPerWindow(Repository r, Manifest m) throws IOException {
        int pairs = 0;
        for (Manifest.DeviceImage image : m.devices()) {
            java.util.Set<String> seen = new java.util.HashSet<>();
            int inWindow = 0;
            for (int i = 0; i < image.chunks().size(); i++) {
                var id = image.chunks().get(i);
                if (id == null) {
                    continue;
                }
                seen.add(r.index().get(id).pack());
                if (++inWindow == RestoreEngine.WINDOW) {
                    pairs += seen.size();
                    seen.clear();
                    inWindow = 0;
                }
            }
            pairs += seen.size();
        }
        return pairs;
    }
}
