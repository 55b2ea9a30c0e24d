package org.blksnap.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.blksnap.backup.engine.BackupResult;
import org.blksnap.backup.engine.Checker;
import org.blksnap.backup.engine.MaxUnused;
import org.blksnap.backup.engine.Pruner;
import org.blksnap.backup.engine.Verifier;
import org.blksnap.backup.repo.ChunkException;
import org.blksnap.backup.repo.ChunkId;
import org.blksnap.backup.repo.ChunkIndex;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.ChunkStore.Kind;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.PackFormat;
import org.blksnap.backup.repo.Repository;
import org.blksnap.backup.retention.RetentionPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Prune's repack: packs that are partly unused after old backups went are
 * rewritten with their live chunks only, so their space comes back; every
 * remaining backup restores bit for bit; a damaged chunk stops it with
 * nothing lost; stopped at any step it leaves a valid repository.
 */
class RepackTest {
    /** Chunks of the test device: eight test packs of four. */
    static final int CHUNKS = 32;

    @TempDir
    Path dir;

    /** Three backups; once the first is pruned, every pack it wrote is half unused. */
    record Scenario(Fixture fx, List<BackupResult> backups, List<byte[]> states) {
    }

    static Scenario scenario(Fixture fx, Path images) throws IOException {
        Files.createDirectories(fx.dir);
        Random random = new Random(17);
        byte[] content = new byte[CHUNKS * Images.CHUNK];
        random.nextBytes(content); // incompressible: a chunk's stored bytes are about its size
        Images.Device vda = new Images.Device("/dev/vda", images.resolve("vda.img"), content);
        List<byte[]> states = new java.util.ArrayList<>();
        List<BackupResult> backups = new java.util.ArrayList<>();
        backups.add(fx.backup(vda.take()));
        states.add(vda.bytes());
        for (int step = 0; step < 2; step++) {
            // The first incremental replaces every even chunk, the second every fourth odd one.
            for (int c = step == 0 ? 0 : 1; c < CHUNKS; c += step == 0 ? 2 : 4) {
                byte[] fresh = new byte[Images.CHUNK];
                random.nextBytes(fresh);
                vda.write((long) c * Images.CHUNK, fresh);
            }
            backups.add(fx.backup(vda.take()));
            states.add(vda.bytes());
        }
        return new Scenario(fx, backups, states);
    }

    static long packBytes(ChunkStore store) throws IOException {
        long n = 0;
        for (String p : store.list(Kind.PACK)) {
            n += store.size(Kind.PACK, p);
        }
        return n;
    }

    /** Bytes of chunks in packs that no backup needs at that place, read from the packs' own lists. */
    static long unusedBytes(Repository repo) throws IOException {
        Set<ChunkId> referenced = new HashSet<>();
        for (Manifest m : repo.manifests()) {
            for (Manifest.DeviceImage d : m.devices()) {
                for (int i = 0; i < d.chunks().size(); i++) {
                    if (d.chunks().get(i) != null) {
                        referenced.add(d.chunks().get(i));
                    }
                }
            }
        }
        long unused = 0;
        for (String p : repo.store().list(Kind.PACK)) {
            for (PackFormat.Entry e : repo.packEntries(p)) {
                ChunkIndex.Location at = repo.index().get(e.id());
                boolean live = referenced.contains(e.id()) && at != null && at.pack().equals(p)
                        && at.offset() == e.offset();
                if (!live) {
                    unused += e.length();
                }
            }
        }
        return unused;
    }

    static RetentionPolicy keepLast(int n) {
        return new RetentionPolicy(n, 0, 0, 0, 0, 0, null);
    }

    /** Every backup still listed restores to the image it saved; verify and check read everything clean. */
    static void assertEveryBackupRestores(Scenario s, String where) throws IOException {
        assertEveryBackupRestores(s, where, false);
    }

    /**
     * @param leftovers true if check may name packs no index names (a collection stopped after it replaced the
     *                  index and before it deleted them: the next one does, as after a killed backup)
     */
    static void assertEveryBackupRestores(Scenario s, String where, boolean leftovers) throws IOException {
        Fixture fx = s.fx();
        Set<String> listed = new HashSet<>();
        try (Repository repo = fx.read()) {
            repo.summaries().backups().forEach(b -> listed.add(b.id()));
            Checker.Report c = new Checker(repo, Verifier.of(repo)).check(100, false);
            assertTrue(c.chunks().clean(), where + ": check --read-data: " + c);
            for (String p : c.problems()) {
                assertTrue(leftovers && p.matches("pack \\p{XDigit}+ holds \\d+ chunks no index names .*"),
                        where + ": check: " + p);
            }
        }
        for (int i = 0; i < s.backups().size(); i++) {
            String id = s.backups().get(i).backupId();
            if (listed.contains(id)) {
                assertArrayEquals(s.states().get(i), fx.restore(id, null), where + ": backup " + i);
            }
        }
        assertTrue(fx.verify(true).clean(), where + ": verify --read-data");
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void pruneRewritesPartlyUnusedPacksAndTheSpaceComesBack(boolean encrypted) throws IOException {
        Scenario s = scenario(new Fixture(dir.resolve("repack"), encrypted), dir);
        Fixture fx = s.fx();
        Fixture without = new Fixture(dir.resolve("unlimited"), encrypted);
        CrashPointTest.copyTree(fx.repoDir(), without.repoDir());
        long before = packBytes(fx.repoStore());

        // Without repacking (what prune did before), removing the first backup frees nothing: no pack is all dead.
        Pruner.Result kept;
        try (Repository repo = without.open(without.repoStore(), ChunkStore.LockMode.EXCLUSIVE)) {
            kept = new Pruner(repo).prune(keepLast(2), RetentionPolicy.GroupBy.DEVICE, false,
                    new MaxUnused.Unlimited());
        }
        assertEquals(List.of(s.backups().getFirst().backupId()), kept.removed());
        assertEquals(CHUNKS / 2, kept.chunksRemoved(), "the even chunks of the first backup");
        assertEquals(0, kept.garbage().packsRepacked());
        assertEquals(before, packBytes(without.repoStore()), "unlimited: partly used packs stay as they are");

        Pruner.Result r;
        try (Repository repo = fx.open(fx.repoStore(), ChunkStore.LockMode.EXCLUSIVE)) {
            r = new Pruner(repo).prune(keepLast(2), RetentionPolicy.GroupBy.DEVICE, false, MaxUnused.DEFAULT);
        }
        long after = packBytes(fx.repoStore());
        assertEquals(CHUNKS / 2, r.chunksRemoved());
        long repacked = r.garbage().packsRepacked();
        // 16 of 56 chunks unused, in the 8 packs of the first backup; at most 5% (2 chunks) may stay.
        assertTrue(repacked >= 6 && repacked <= 8, "partly unused packs rewritten: " + r.garbage());
        long copied = r.garbage().chunksCopied();
        assertTrue(copied >= repacked && copied <= CHUNKS / 2, "only odd chunks, which the others still need, are "
                + "copied: " + r.garbage());
        assertEquals(before - after, r.bytesFreed(), "the bytes freed are the bytes the packs no longer take");
        assertTrue(before - after >= 13L * Images.CHUNK,
                "at least 13 of the 16 dead chunks' bytes came back: " + before + " -> " + after);
        try (Repository repo = fx.read()) {
            long unused = unusedBytes(repo);
            assertTrue(unused <= after / 20, "at most 5% unused: " + unused + " of " + after);
            assertEquals(1, repo.index().indexNames().size(), "one consolidated index");
        }
        assertEquals(fx.referencedPacks(), Set.copyOf(fx.repoStore().list(Kind.PACK)), "every pack left is needed");
        assertEveryBackupRestores(s, "after the repack");
        assertEquals(0, Fixture.count(fx.repoDir().resolve("tmp")));

        // 0% rewrites every pack left with an unused byte: all 16 dead chunks' space is back.
        try (Repository repo = fx.open(fx.repoStore(), ChunkStore.LockMode.EXCLUSIVE)) {
            Pruner.Garbage g = new Pruner(repo).collectGarbage(new MaxUnused.Percent(0));
            assertEquals(8 - repacked, g.packsRepacked(), g.toString());
        }
        after = packBytes(fx.repoStore());
        try (Repository repo = fx.read()) {
            assertEquals(0, unusedBytes(repo), "no unused chunk is left in a pack");
        }
        assertTrue(before - after >= (CHUNKS / 2) * (long) Images.CHUNK,
                "the 16 dead chunks' bytes came back: " + before + " -> " + after);
        assertEveryBackupRestores(s, "after a repack with 0%");

        // A second prune finds nothing to do.
        try (Repository repo = fx.open(fx.repoStore(), ChunkStore.LockMode.EXCLUSIVE)) {
            Pruner.Garbage g = new Pruner(repo).collectGarbage(new MaxUnused.Percent(0));
            assertEquals(new Pruner.Garbage(0, 0, 0, 0, 0), g);
        }
        assertEquals(after, packBytes(fx.repoStore()));
    }

    @Test
    void theLimitLeavesAsMuchUnusedSpaceAsItAllows() throws IOException {
        Scenario s = scenario(new Fixture(dir.resolve("limit")), dir);
        Fixture fx = s.fx();
        try (Repository repo = fx.open(fx.repoStore(), ChunkStore.LockMode.EXCLUSIVE)) {
            new Pruner(repo).prune(keepLast(2), RetentionPolicy.GroupBy.DEVICE, false, new MaxUnused.Unlimited());
        }
        long used;
        long unused;
        try (Repository repo = fx.read()) {
            unused = unusedBytes(repo);
            used = packBytes(fx.repoStore()) - unused;
        }
        // 16 of 56 chunks (29% of the pack bytes) are unused: 30% leaves them, 10% rewrites some of the 8 partly
        // unused packs, those with the most unused chunks first, until at most 10% are unused.
        assertTrue(unused > 0.28 * (used + unused) && unused < 0.30 * (used + unused), unused + " of " + used);
        try (Repository repo = fx.open(fx.repoStore(), ChunkStore.LockMode.EXCLUSIVE)) {
            assertEquals(0, new Pruner(repo).collectGarbage(new MaxUnused.Percent(30)).packsRepacked());
            Pruner.Garbage g = new Pruner(repo).collectGarbage(new MaxUnused.Percent(10));
            assertTrue(g.packsRepacked() > 0 && g.packsRepacked() < 8, "some packs rewritten, not all: " + g);
        }
        try (Repository repo = fx.read()) {
            long left = unusedBytes(repo);
            long all = packBytes(fx.repoStore());
            assertTrue(left > 0 && left <= all / 10, "unused " + left + " of " + all + " (was " + unused + " of "
                    + (used + unused) + ")");
        }
        assertEveryBackupRestores(s, "after a partial repack");
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void aDamagedChunkInAPackToRewriteStopsTheRepackAndNothingIsLost(boolean encrypted) throws IOException {
        Scenario s = scenario(new Fixture(dir.resolve("damaged"), encrypted), dir);
        Fixture fx = s.fx();
        try (Repository repo = fx.open(fx.repoStore(), ChunkStore.LockMode.EXCLUSIVE)) {
            new Pruner(repo).prune(keepLast(2), RetentionPolicy.GroupBy.DEVICE, false, new MaxUnused.Unlimited());
        }
        // The victim: a live chunk of the partly unused pack the repack copies last (the most wasteful go first),
        // so that new packs are already published when the damage is met.
        record Candidate(String pack, PackFormat.Entry firstLive, double waste) {
        }
        List<Candidate> order = new java.util.ArrayList<>();
        try (Repository repo = fx.read()) {
            Set<ChunkId> referenced = new HashSet<>();
            for (Manifest m : repo.manifests()) {
                for (int i = 0; i < m.devices().getFirst().chunks().size(); i++) {
                    referenced.add(m.devices().getFirst().chunks().get(i));
                }
            }
            for (String p : repo.store().list(Kind.PACK)) {
                List<PackFormat.Entry> live = repo.packEntries(p).stream().filter(e -> referenced.contains(e.id()))
                        .sorted(java.util.Comparator.comparingLong(PackFormat.Entry::offset)).toList();
                long liveBytes = live.stream().mapToLong(PackFormat.Entry::length).sum();
                long dead = repo.store().size(Kind.PACK, p) - liveBytes - PackFormat.overhead(live.size(), encrypted);
                if (!live.isEmpty() && dead > 0) {
                    order.add(new Candidate(p, live.getFirst(), (double) dead / liveBytes));
                }
            }
        }
        order.sort(java.util.Comparator.comparingDouble(Candidate::waste).reversed()
                .thenComparing(Candidate::pack));
        assertTrue(order.size() >= 6, "the first backup's packs are partly unused: " + order);
        ChunkId victim = order.getLast().firstLive().id();
        String pack = order.getLast().pack();
        Map<String, byte[]> files = files(fx.repoDir());
        fx.damage(victim);
        ChunkException e;
        CrashingChunkStore watched = new CrashingChunkStore(fx.repoStore(), Integer.MAX_VALUE);
        try (Repository repo = fx.open(watched, ChunkStore.LockMode.EXCLUSIVE)) {
            e = assertThrows(ChunkException.class, () -> new Pruner(repo).collectGarbage(new MaxUnused.Percent(0)));
        }
        List<String> published = watched.log.stream().filter(l -> l.startsWith("publish PACK "))
                .map(l -> l.substring("publish PACK ".length())).toList();
        assertTrue(!published.isEmpty(), "new packs were written before the damage was met: " + watched.log);
        for (String p : published) {
            assertTrue(watched.log.contains("delete PACK " + p), "the new pack " + p + " is removed: " + watched.log);
        }
        assertTrue(watched.log.stream().noneMatch(l -> l.startsWith("delete ") && !published.contains(
                l.substring(l.lastIndexOf(' ') + 1)) || l.startsWith("put ")), "nothing else changed: " + watched.log);
        assertEquals(victim, e.chunkId());
        assertTrue(e.getMessage().startsWith("chunk " + victim + " in pack " + pack) && e.getMessage().contains(
                "is damaged") && e.getMessage().contains("nothing was repacked or removed"), e.getMessage());
        // Repair the bit: every file is what it was (the new packs written before the damage was met are gone).
        fx.damage(victim);
        assertEquals(files.keySet(), files(fx.repoDir()).keySet());
        for (var f : files(fx.repoDir()).entrySet()) {
            assertArrayEquals(files.get(f.getKey()), f.getValue(), f.getKey());
        }
        assertEveryBackupRestores(s, "after the refused repack");
    }

    static Map<String, byte[]> files(Path root) throws IOException {
        Map<String, byte[]> out = new HashMap<>();
        try (var w = Files.walk(root)) {
            for (Path p : (Iterable<Path>) w::iterator) {
                if (Files.isRegularFile(p) && !p.getFileName().toString().equals("lock")) {
                    out.put(root.relativize(p).toString(), Files.readAllBytes(p));
                }
            }
        }
        return out;
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void aRepackStoppedAtAnyStepLeavesAValidRepositoryInWhichEveryBackupRestores(boolean encrypted)
            throws IOException {
        Scenario s = scenario(new Fixture(dir.resolve("base"), encrypted), dir);
        Fixture base = s.fx();
        Set<String> originalPacks = Set.copyOf(base.repoStore().list(Kind.PACK));
        Map<String, byte[]> originalFiles = files(base.repoDir());
        long before = packBytes(base.repoStore());
        int allOld = 0;
        int someOldGone = 0;
        for (int n = 1; ; n++) {
            Fixture fx = new Fixture(dir.resolve("crash" + n), encrypted);
            CrashPointTest.copyTree(base.repoDir(), fx.repoDir());
            CrashPointTest.CrashingStore store = new CrashPointTest.CrashingStore(fx.repoDir(), n);
            try (Repository repo = fx.open(store, ChunkStore.LockMode.EXCLUSIVE)) {
                new Pruner(repo).prune(keepLast(2), RetentionPolicy.GroupBy.DEVICE, false, MaxUnused.DEFAULT);
            } catch (LocalDirectoryStore.SimulatedCrash expected) {
                // The point of the test.
            }
            if (!store.crashed()) {
                break;
            }
            String where = "crash at step " + n + " after " + store.log;
            Scenario left = new Scenario(fx, s.backups(), s.states());
            // Either side of the commit point (the consolidated index): an index never names a pack that is gone,
            // and until the old packs go (after it) every one of them is there byte for byte.
            Set<String> named = new HashSet<>();
            try (Repository repo = fx.read()) {
                for (String idx : repo.index().indexNames()) {
                    repo.readIndex(idx).forEach(p -> named.add(p.name()));
                }
            }
            Set<String> present = Set.copyOf(fx.repoStore().list(Kind.PACK));
            assertTrue(present.containsAll(named), where + ": an index names a pack that is gone");
            if (present.containsAll(originalPacks)) {
                allOld++;
                Map<String, byte[]> now = files(fx.repoDir());
                for (String p : originalPacks) {
                    String f = originalFiles.keySet().stream().filter(k -> k.endsWith(p)).findFirst().orElseThrow();
                    assertArrayEquals(originalFiles.get(f), now.get(f), where + ": original pack " + p);
                }
            } else {
                someOldGone++;
            }
            assertEveryBackupRestores(left, where, true);

            // The next prune, not stopped, finishes the job.
            try (Repository repo = fx.open(fx.repoStore(), ChunkStore.LockMode.EXCLUSIVE)) {
                new Pruner(repo).prune(keepLast(2), RetentionPolicy.GroupBy.DEVICE, false, MaxUnused.DEFAULT);
                assertEquals(List.of(s.backups().get(1).backupId(), s.backups().get(2).backupId()),
                        repo.manifests().stream().map(Manifest::id).toList(), where);
            }
            try (Repository repo = fx.read()) {
                long unused = unusedBytes(repo);
                assertTrue(unused <= packBytes(fx.repoStore()) / 20, where + ": at most 5% unused after the next "
                        + "prune: " + unused);
            }
            assertTrue(packBytes(fx.repoStore()) <= before - 12L * Images.CHUNK,
                    where + ": the space came back (6 half unused packs rewritten at least)");
            assertEquals(fx.referencedPacks(), Set.copyOf(fx.repoStore().list(Kind.PACK)),
                    where + ": every pack left is needed");
            assertEveryBackupRestores(left, where + ", then a prune");
        }
        assertTrue(allOld > 20, "crash points with every old pack still there: " + allOld);
        assertTrue(someOldGone > 5, "crash points with some old packs deleted: " + someOldGone);
        System.out.println("repack crash points tried: " + allOld + " with every old pack there, " + someOldGone
                + " with some deleted");
    }
}
