package org.blksnap.itest.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.blksnap.backup.S3Server;
import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Shell;
import org.blksnap.itest.support.Snapshots;
import org.blksnap.itest.verify.Evidence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * BackupIT's live ext4 to an S3 repository, encrypted (the default): the S3
 * server is S3Proxy over an in-memory store, run by this JVM in the guest on
 * 127.0.0.1, with signature checking; credentials reach blksnap through the
 * SDK's default chain, as a user gives them. The full and the incremental
 * restore to new disks as the filesystem was at each take.
 */
class S3BackupIT {
    private static final long DEVICE = 64L << 20;
    private static final int FILES = 60;
    private static S3Server server;

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

    @AfterEach
    void noSnapshotLeft() throws IOException {
        assertEquals(List.of(), Snapshots.list(), "a backup left a snapshot behind");
    }

    private static Blksnap.Result backup(String... args) {
        String[] all = java.util.Arrays.copyOf(args, args.length + 2);
        all[args.length] = "--password-command";
        all[args.length + 1] = "printf 's3 backup-it password'";
        return Blksnap.run(all);
    }

    private static JsonNode create(String repo, Path device) throws IOException {
        JsonNode r = backup("backup", "create", "--device", device.toString(), "--repo", repo, "--storage", "/tmp",
                "--limit", "64M", "--json", "--kdf-memory", "8M", "--kdf-iterations", "1").ok().json();
        Evidence.add(Evidence.Tally.SNAPSHOTS_TAKEN, 1);
        return r;
    }

    private static Map<String, String> restored(String repo, String id, LoopDevice target) throws IOException {
        backup("backup", "restore", id, "--repo", repo, "--to", target.path(), "--verify").ok();
        return LiveFs.md5TreeOfRestored(target.device());
    }

    @Test
    void aLiveExt4GoesToS3EncryptedAndRestoresAsItWasAtEachTake() throws Exception {
        String repo = S3Server.freshRepo(server.port());
        try (LoopDevice src = LoopDevice.create(DEVICE); LoopDevice disk1 = LoopDevice.create(DEVICE);
                LoopDevice disk2 = LoopDevice.create(DEVICE); LiveFs fs = LiveFs.create(src.device())) {
            for (int i = 0; i < FILES; i++) {
                LiveFs.write(fs.mount.resolve("file" + i), (i % 4 + 1) * 48 * 1024, 100 + i);
            }
            Shell.sh("sync");
            Map<String, String> atFull = LiveFs.md5Tree(fs.mount);
            fs.startWriting();
            JsonNode full = create(repo, src.device());
            assertTrue(fs.stopWriting() > 0, "the filesystem was written during the backup");
            assertEquals("full", full.get("devices").get(0).get("mode").asText());

            LiveFs.overwrite(fs.mount.resolve("file3"), 4096, 8192, 2003);
            Shell.sh("sync");
            Map<String, String> atIncremental = LiveFs.md5Tree(fs.mount);
            assertNotEquals(atFull, atIncremental);
            fs.startWriting();
            JsonNode inc = create(repo, src.device());
            fs.stopWriting();
            JsonNode incDev = inc.get("devices").get(0);
            assertEquals("incremental", incDev.get("mode").asText(), incDev.get("reason").asText());
            assertTrue(incDev.get("bytes_read").asLong() < DEVICE / 4, incDev.toString());

            assertEquals(atFull, restored(repo, full.get("backup").asText(), disk1));
            assertEquals(atIncremental, restored(repo, inc.get("backup").asText(), disk2));
            Evidence.add(Evidence.Tally.BYTES_COMPARED, 2 * DEVICE);
            JsonNode verify = backup("backup", "verify", "--repo", repo, "--read-data", "--json").ok().json();
            assertTrue(verify.get("ok").asBoolean(), verify.toString());
            assertEquals(2, verify.get("backups").asInt());
        }
    }
}
