package org.blksnap.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;

import org.blksnap.backup.S3Server;
import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.BackupResult;
import org.blksnap.backup.engine.ProgressListener;
import org.blksnap.backup.engine.SnapshotSource;
import org.blksnap.backup.engine.SourceDevice;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.Repository;
import org.blksnap.backup.repo.s3.S3Store;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Every backup command that needs no kernel on an S3 repository (S3Proxy on
 * loopback), credentials through the SDK's default chain as a user gives them.
 */
class BackupS3CliTest {
    private static final int CHUNK = 64 << 10;
    private static S3Server server;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        server = new S3Server();
        S3Server.useAsDefaultCredentials();
    }

    @AfterAll
    static void stop() {
        S3Server.clearDefaultCredentials();
        server.close();
    }

    private BackupResult backup(String repo, Path image, long size) throws IOException {
        SnapshotSource files = new SnapshotSource() {
            @Override
            public List<SourceDevice> devices() {
                return List.of(new SourceDevice("/dev/vdb", image, size, null));
            }

            @Override
            public void checkIntact() {
            }

            @Override
            public void close() {
            }
        };
        try (S3Store store = S3Server.store(repo, S3Server.testOptions());
                Repository r = Repository.openOrCreate(store, CHUNK)) {
            return new BackupEngine(r, BackupEngine.Options.defaults(), ProgressListener.NONE).run(files);
        }
    }

    @Test
    void anEncryptedRepositoryOnS3RestoresAndItsKeyObjectIsReplacedOnPasswd() throws IOException {
        String repo = S3Server.freshRepo(server.port());
        byte[] data = new byte[6 * CHUNK + 100];
        new Random(8).nextBytes(data);
        Path image = dir.resolve("enc.img");
        Files.write(image, data);
        SnapshotSource files = new SnapshotSource() {
            @Override
            public List<SourceDevice> devices() {
                return List.of(new SourceDevice("/dev/vdb", image, data.length, null));
            }

            @Override
            public void checkIntact() {
            }

            @Override
            public void close() {
            }
        };
        org.blksnap.backup.repo.Secret pw = new org.blksnap.backup.repo.Secret.Password("s3 pw".toCharArray());
        try (S3Store store = S3Server.store(repo, S3Server.testOptions());
                Repository r = Repository.openForBackup(store, new Repository.NewRepository(CHUNK,
                        Repository.DEFAULT_PACK_SIZE, true, new org.blksnap.backup.repo.KeyRing.Argon2(64, 1, 1)),
                        Duration.ZERO, () -> pw)) {
            new BackupEngine(r, BackupEngine.Options.defaults(), ProgressListener.NONE).run(files);
        }
        Run wrong = Run.of("backup", "list", "-r", repo, "--password-command", "printf nope");
        assertEquals(ExitCodes.WRONG_KEY, wrong.status(), wrong::err);
        assertEquals(1, wrong.errLines(), wrong::err);

        Run passwd = Run.of("backup", "key", "passwd", "-r", repo, "--password-command", "printf 's3 pw'",
                "--new-password-command", "printf 'new pw'", "--kdf-memory", "64K", "--kdf-iterations", "1");
        assertEquals(0, passwd.status(), passwd::err);
        assertEquals(ExitCodes.WRONG_KEY,
                Run.of("backup", "list", "-r", repo, "--password-command", "printf 's3 pw'").status());
        Path out = dir.resolve("enc-restored.img");
        Run restore = Run.of("backup", "restore", "latest", "-r", repo, "--to", out.toString(),
                "--password-command", "printf 'new pw'");
        assertEquals(0, restore.status(), restore::err);
        assertArrayEquals(data, Files.readAllBytes(out));
    }

    @Test
    void listRestoreVerifyCheckForgetAndPruneOnS3() throws IOException {
        String repo = S3Server.freshRepo(server.port());
        byte[] first = new byte[20 * CHUNK + 512];
        new Random(5).nextBytes(first);
        Path image = dir.resolve("vdb.img");
        Files.write(image, first);
        String one = backup(repo, image, first.length).backupId();
        byte[] second = first.clone();
        java.util.Arrays.fill(second, 0, 3 * CHUNK, (byte) 7);
        Files.write(image, second);
        String two = backup(repo, image, second.length).backupId();

        Run list = Run.of("backup", "list", "--repo", repo);
        assertEquals(0, list.status(), list::err);
        assertTrue(list.out().contains(one) && list.out().contains(two), list.out());

        Path out = dir.resolve("restored.img");
        Run restore = Run.of("backup", "restore", one, "-r", repo, "--to", out.toString(), "--verify");
        assertEquals(0, restore.status(), restore::err);
        assertArrayEquals(first, Files.readAllBytes(out));

        Run verify = Run.of("backup", "verify", "-r", repo, "--read-data");
        assertEquals(0, verify.status(), verify::err);
        Run check = Run.of("backup", "check", "-r", repo, "--read-data");
        assertEquals(0, check.status(), check::err);
        Run repair = Run.of("backup", "check", "-r", repo, "--repair");
        assertEquals(0, repair.status(), repair::err);

        Run prune = Run.of("backup", "prune", "-r", repo, "--keep-last", "1");
        assertEquals(0, prune.status(), prune::err);
        assertTrue(prune.out().contains("removed 1 backup"), prune.out());
        JsonNode json = new ObjectMapper().readTree(Run.of("backup", "list", "-r", repo, "--json").out());
        assertEquals(1, json.get("backups").size());
        assertEquals(two, json.get("backups").get(0).get("id").asText());

        Path out2 = dir.resolve("restored2.img");
        Run latest = Run.of("backup", "restore", "latest", "-r", repo, "--to", out2.toString());
        assertEquals(0, latest.status(), latest::err);
        assertArrayEquals(second, Files.readAllBytes(out2));

        Run forget = Run.of("backup", "forget", two, "-r", repo);
        assertEquals(0, forget.status(), forget::err);
        json = new ObjectMapper().readTree(Run.of("backup", "list", "-r", repo, "--json").out());
        assertEquals(0, json.get("backups").size());
    }

    @Test
    void aHeldS3LockMakesACommandBusyUntilBreakLock() throws IOException {
        String repo = S3Server.freshRepo(server.port());
        Path image = dir.resolve("vdb.img");
        Files.write(image, new byte[4 * CHUNK]);
        backup(repo, image, 4 * CHUNK);
        // A holder hung on another host: its lock stays, and it never beats.
        // (With the tests' 1 s heartbeat, a beat that checked its object
        // just before --break-lock removed it would write it again, and the
        // broken list would find the lock back: a race of the test's making.)
        try (S3Store other = S3Server.store(repo, S3Server.testOptions().withLockTiming(Duration.ofHours(1),
                Duration.ofHours(2)))) {
            other.lock(ChunkStore.LockMode.EXCLUSIVE, Duration.ZERO);
            Run busy = Run.of("backup", "list", "-r", repo);
            assertEquals(ExitCodes.BUSY, busy.status(), busy::err);
            assertEquals(1, busy.errLines(), busy.err());
            assertTrue(busy.err().contains("is in use by ") && busy.err().contains("--break-lock"), busy.err());
            Run broken = Run.of("backup", "list", "-r", repo, "--break-lock");
            assertEquals(0, broken.status(), broken::err);
        }
        Run bad = Run.of("backup", "list", "-r", "s3:https://host/Bad_Bucket");
        assertEquals(ExitCodes.USAGE, bad.status(), bad::err);
        assertTrue(bad.err().contains("invalid S3 bucket name 'Bad_Bucket'"), bad.err());
    }
}
