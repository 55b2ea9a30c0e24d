package org.blksnap.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.BackupResult;
import org.blksnap.backup.engine.ProgressListener;
import org.blksnap.backup.engine.Pruner;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.Manifest;
import org.blksnap.backup.repo.Repository;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Stops a backup and a prune at every step of the store's write protocol,
 * as a kill would, and checks what is left: older backups restore, verify is
 * clean, nothing half-written is visible, and the next run succeeds.
 */
class CrashPointTest {
    private static final int SIZE = 8 * Images.CHUNK;

    @TempDir
    Path dir;

    /** Dies at the n-th step and stays dead, like a killed process. */
    static final class CrashingStore extends Fixture.Unsynced {
        private final int crashAt;
        private int steps;
        private boolean dead;
        final List<String> log = new ArrayList<>();

        CrashingStore(Path root, int crashAt) {
            super(root);
            this.crashAt = crashAt;
        }

        @Override
        protected synchronized void step(Step step, Path path) throws IOException {
            if (dead || ++steps == crashAt) {
                dead = true;
                throw new SimulatedCrash("crash before " + step + " of " + path.getFileName());
            }
            log.add(step + " " + path.getFileName());
        }

        synchronized boolean crashed() {
            return dead;
        }
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void aBackupStoppedAtAnyStepLeavesAValidRepository(boolean encrypted) throws IOException {
        Fixture base = new Fixture(dir.resolve("base"), encrypted);
        Files.createDirectories(base.dir);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(SIZE, 30));
        byte[] state0 = vda.bytes();
        BackupResult first = base.backup(vda.take());
        vda.write(100, new byte[] {1});
        vda.write(3L * Images.CHUNK, new byte[] {2});
        vda.write(6L * Images.CHUNK, new byte[] {3});
        byte[] state1 = vda.bytes();
        var second = vda.take();

        int crashes = 0;
        for (int n = 1; ; n++) {
            Fixture fx = new Fixture(dir.resolve("run" + n), encrypted);
            copyTree(base.repoDir(), fx.repoDir());
            CrashingStore store = new CrashingStore(fx.repoDir(), n);
            try (Repository repo = fx.openToBackUp(store)) {
                new BackupEngine(repo, BackupEngine.Options.defaults(), ProgressListener.NONE)
                        .run(Images.source(second));
            } catch (LocalDirectoryStore.SimulatedCrash expected) {
                // The point of the test.
            }
            if (!store.crashed()) {
                assertTrue(n > 5, "the protocol has more steps than " + n + ": " + store.log);
                break;
            }
            crashes++;
            String where = "crash at step " + n + " after " + store.log;
            assertTrue(fx.verify(true).clean(), where);
            assertArrayEquals(state0, fx.restore(first.backupId(), null), where);
            List<Manifest> visible;
            try (Repository repo = fx.read()) {
                visible = repo.manifests();
            }
            assertTrue(visible.size() == 1 || visible.size() == 2, where);
            if (visible.size() == 2) {
                assertArrayEquals(state1, fx.restore(visible.get(1).id(), null), where);
            }
            BackupResult next = fx.backup(second);
            assertArrayEquals(state1, fx.restore(next.backupId(), null), where);
            assertEquals(0, Fixture.count(fx.repoDir().resolve("tmp")), "leftovers removed by the next writer");
            assertTrue(fx.verify(true).clean(), where);
        }
        assertTrue(crashes >= 6, "crashed only " + crashes + " times");
        System.out.println("crash points tried: " + crashes);
    }

    @ParameterizedTest(name = "encrypted={0}")
    @ValueSource(booleans = {false, true})
    void aPruneStoppedAtAnyStepLeavesAValidRepository(boolean encrypted) throws IOException {
        Fixture base = new Fixture(dir.resolve("base"), encrypted);
        Files.createDirectories(base.dir);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(SIZE, 31));
        base.backup(vda.take());
        vda.write(Images.CHUNK, new byte[] {1});
        vda.write(2L * Images.CHUNK, new byte[] {1});
        BackupResult kept = base.backup(vda.take());
        byte[] state = vda.bytes();
        long garbage = 1; // the old chunk 1; chunk 2 was all zero

        for (int n = 1; ; n++) {
            Fixture fx = new Fixture(dir.resolve("prune" + n), encrypted);
            copyTree(base.repoDir(), fx.repoDir());
            CrashingStore store = new CrashingStore(fx.repoDir(), n);
            try (Repository repo = fx.open(store, ChunkStore.LockMode.EXCLUSIVE)) {
                new Pruner(repo).prune(1, 0, false);
            } catch (LocalDirectoryStore.SimulatedCrash expected) {
                // The point of the test.
            }
            if (!store.crashed()) {
                break;
            }
            String where = "crash at step " + n + " after " + store.log;
            assertTrue(fx.verify(true).clean(), where);
            assertArrayEquals(state, fx.restore(kept.backupId(), null), where);
            Pruner.Result again;
            try (Repository repo = fx.open(fx.repoStore(), ChunkStore.LockMode.EXCLUSIVE)) {
                again = new Pruner(repo).prune(1, 0, false);
                assertEquals(List.of(kept.backupId()), repo.manifests().stream().map(Manifest::id).toList(), where);
            }
            long left = fx.chunkCount();
            long all = base.chunkCount();
            assertEquals(all - garbage, left, where + "; second prune removed " + again.chunksRemoved());
            assertTrue(fx.verify(true).clean(), where);
            assertEquals(fx.referencedPacks(), Set.copyOf(fx.repoStore().list(ChunkStore.Kind.PACK)),
                    where + ": every pack left is needed");
        }
    }
}
