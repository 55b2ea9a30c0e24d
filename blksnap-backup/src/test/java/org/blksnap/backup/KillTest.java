package org.blksnap.backup;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import org.blksnap.backup.engine.BackupResult;
import org.blksnap.backup.repo.ChunkStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real kill -9 of a JVM in the middle of a backup. */
class KillTest {
    @TempDir
    Path dir;

    @Test
    void aBackupKilledWithSigkillLeavesAValidRepository() throws Exception {
        Fixture fx = new Fixture(dir);
        Images.Device vda = new Images.Device("/dev/vda", dir.resolve("vda.img"), Images.content(64 * Images.CHUNK, 40));
        byte[] state0 = vda.bytes();
        BackupResult first = fx.backup(vda.take());
        long chunksBefore = fx.repoStore().list(ChunkStore.Kind.PACK).size();
        byte[] fresh = new byte[64 * Images.CHUNK];
        new Random(41).nextBytes(fresh);
        vda.write(0, fresh);

        String java = ProcessHandle.current().info().command().orElseThrow();
        Process child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"),
                KillTarget.class.getName(), fx.repoDir().toString(), vda.file.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (fx.repoStore().list(ChunkStore.Kind.PACK).size() < chunksBefore + 4) {
            assertTrue(child.isAlive(), "the child ended before it was killed: " + Files.readString(dir.resolve(
                    "child.log")));
            assertTrue(System.nanoTime() < deadline, "the child stored nothing in 60 s");
            Thread.sleep(20);
        }
        child.destroyForcibly();
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
        assertEquals(137, child.exitValue(), "killed by SIGKILL");

        try (var repo = fx.read()) {
            assertEquals(1, repo.manifests().size(), "the killed backup is not visible");
        }
        assertTrue(fx.verify(true).clean());
        assertArrayEquals(state0, fx.restore(first.backupId(), null));
        BackupResult next = fx.backup(vda.take());
        assertArrayEquals(fresh, fx.restore(next.backupId(), null));
    }
}
