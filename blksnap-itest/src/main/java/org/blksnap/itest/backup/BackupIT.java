package org.blksnap.itest.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.blksnap.api.CbtMap;
import org.blksnap.api.Extent;
import org.blksnap.api.Filter;
import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Shell;
import org.blksnap.itest.support.Snapshots;
import org.blksnap.itest.verify.Evidence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * blksnap backup on a live ext4: a full backup while the filesystem is
 * written, 1% of the files changed, an incremental that reads exactly the
 * chunks CBT names, both restored to new disks, fsck clean and every file as
 * it was at each take. Plus the failures a user meets: storage overflow,
 * bad targets, a SIGTERM in the middle.
 */
class BackupIT {
    private static final long MIB = 1L << 20;
    private static final long DEVICE = 64 * MIB;
    private static final int FILES = 100;
    private static final String PASSWORD = "backup-it password";

    private Path repo;

    @BeforeEach
    void repo() throws IOException {
        repo = Files.createTempDirectory("backup-repo");
    }

    @AfterEach
    void clean() throws IOException {
        Shell.run("rm", "-rf", repo.toString());
        assertEquals(List.of(), Snapshots.list(), "a backup left a snapshot behind");
    }

    /**
     * The repositories are encrypted, the default: every command gets the
     * password from a command (in-process runs cannot set the environment;
     * the SIGTERM test's own process uses BLKSNAP_PASSWORD_FILE).
     */
    private static String[] withPassword(String... args) {
        String[] out = java.util.Arrays.copyOf(args, args.length + 2);
        out[args.length] = "--password-command";
        out[args.length + 1] = "printf '" + PASSWORD + "'";
        return out;
    }

    private static Blksnap.Result backup(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "backup";
        System.arraycopy(args, 0, all, 1, args.length);
        return Blksnap.run(withPassword(all));
    }

    private JsonNode create(Path device, String... extra) throws IOException {
        // A cheap Argon2id: under TCG the default cost (64 MiB, 3 passes) takes most of a minute per command.
        String[] base = {"backup", "create", "--device", device.toString(), "--repo", repo.toString(), "--storage",
            "/tmp", "--limit", "64M", "--json", "--kdf-memory", "8M", "--kdf-iterations", "1"};
        String[] args = java.util.Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        JsonNode r = Blksnap.run(withPassword(args)).ok().json();
        Evidence.add(Evidence.Tally.SNAPSHOTS_TAKEN, 1);
        return r;
    }

    private Map<String, String> restoreAndCheck(String backup, Path device, LoopDevice target) throws IOException {
        backup("restore", backup, "--repo", repo.toString(), "--device", device.toString(), "--to",
                target.path(), "--verify").ok();
        return LiveFs.md5TreeOfRestored(target.device());
    }

    @Test
    void fullAndIncrementalOfALiveExt4RestoreToNewDisksAsTheyWereAtEachTake() throws Exception {
        try (LoopDevice src = LoopDevice.create(DEVICE); LoopDevice disk1 = LoopDevice.create(DEVICE);
                LoopDevice disk2 = LoopDevice.create(DEVICE + 16 * MIB); LiveFs fs = LiveFs.create(src.device())) {
            for (int i = 0; i < FILES; i++) {
                LiveFs.write(fs.mount.resolve("file" + i), (i % 4 + 1) * 48 * 1024, i);
            }
            Shell.sh("sync");
            Map<String, String> atFull = LiveFs.md5Tree(fs.mount);

            fs.startWriting();
            JsonNode full = create(src.device(), "--tag", "full");
            assertTrue(fs.stopWriting() > 0, "the filesystem was written during the backup");
            JsonNode fullDev = full.get("devices").get(0);
            assertEquals("full", fullDev.get("mode").asText());
            assertEquals(DEVICE, fullDev.get("bytes_read").asLong());

            // 1% of the files change.
            LiveFs.overwrite(fs.mount.resolve("file7"), 4096, 8192, 1007);
            Shell.sh("sync");
            Map<String, String> atIncremental = LiveFs.md5Tree(fs.mount);
            assertNotEquals(atFull, atIncremental);

            fs.startWriting();
            JsonNode inc = create(src.device());
            fs.stopWriting();
            JsonNode incDev = inc.get("devices").get(0);
            assertEquals("incremental", incDev.get("mode").asText(), incDev.get("reason").asText());

            // The incremental read exactly the chunks (of the repository's
            // default geometry) that the blocks CBT says changed between the
            // two takes touch, each whole; every other chunk is the full's.
            JsonNode list = backup("list", "--repo", repo.toString(), "--json").ok().json();
            JsonNode fullEntry = list.get("backups").get(0);
            int fullChanges = fullEntry.get("devices").get(0).get("changes_number").asInt();
            long chunk = fullEntry.get("chunk_size").asLong();
            assertEquals(256 * 1024, chunk, "the default chunk size");
            List<Extent> changed;
            try (Filter f = Filter.open(src.device())) {
                changed = CbtMap.read(f).changedExtents(fullChanges);
            }
            java.util.BitSet touched = new java.util.BitSet();
            for (Extent e : changed) {
                touched.set((int) (e.offset() / chunk), (int) ((e.end() - 1) / chunk) + 1);
            }
            long expected = Math.min(DEVICE, touched.cardinality() * chunk);
            assertEquals(expected, incDev.get("bytes_read").asLong(), "incremental read vs chunks of CBT extents "
                    + changed);
            assertTrue(expected > 0 && expected < DEVICE / 4, "CBT touched " + expected + " bytes of chunks");
            Evidence.add(Evidence.Tally.BLOCKS_VERIFIED, changed.size());

            assertEquals(atFull, restoreAndCheck(full.get("backup").asText(), src.device(), disk1));
            assertEquals(atIncremental, restoreAndCheck(inc.get("backup").asText(), src.device(), disk2));
            Evidence.add(Evidence.Tally.BYTES_COMPARED, 2 * DEVICE);

            JsonNode verify = backup("verify", "--repo", repo.toString(), "--read-data", "--json")
                    .ok().json();
            assertTrue(verify.get("ok").asBoolean());
            assertEquals(2, verify.get("backups").asInt());
        }
    }

    @Test
    void badTargetsAndAFullStorageFailWithOneLineAndLeaveTheRepositoryAlone() throws Exception {
        try (LoopDevice src = LoopDevice.create(DEVICE); LoopDevice small = LoopDevice.create(DEVICE / 2);
                LiveFs fs = LiveFs.create(src.device())) {
            LiveFs.write(fs.mount.resolve("a"), 1 << 20, 1);
            Shell.sh("sync");
            String id = create(src.device()).get("backup").asText();

            Blksnap.Result r = backup("restore", id, "--repo", repo.toString(), "--to", small.path());
            assertEquals(1, r.status(), r.err());
            assertEquals(1, r.errLines(), r.err());
            assertTrue(r.err().contains("too small"), r.err());

            r = backup("restore", id, "--repo", repo.toString(), "--to", src.path());
            assertEquals(1, r.status(), r.err());
            assertTrue(r.err().contains("is mounted on"), r.err());

            r = backup("create", "--device", "/dev/nonexistent", "--repo", repo.toString());
            assertEquals(5, r.status(), r.err());
            assertEquals(1, r.errLines(), r.err());

            // A writer fills a 1 MiB difference storage while the image is read.
            fs.startWriting();
            r = backup("create", "--device", src.path(), "--repo", repo.toString(), "--storage",
                    "/tmp", "--limit", "1M", "--full");
            fs.stopWriting();
            assertEquals(1, r.status(), r.out() + r.err());
            assertTrue(r.err().lines().anyMatch(l -> l.contains("snapshot")), r.err());
            Evidence.fault("storage overflow during backup");

            JsonNode list = backup("list", "--repo", repo.toString(), "--json").ok().json();
            assertEquals(1, list.get("backups").size(), "the failed backups are not visible");
            backup("verify", "--repo", repo.toString()).ok();
        }
    }

    @Test
    void sigtermDuringABackupDestroysTheSnapshotAndSavesNothing() throws Exception {
        try (LoopDevice src = LoopDevice.create(DEVICE)) {
            LiveFs.write(src.file(), (int) (48 * MIB), 5);
            Path launcher = Path.of(System.getProperty("user.dir"), "bin", "blksnap");
            ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "backup", "create", "--device", src.path(),
                    "--repo", repo.toString(), "--storage", "/tmp", "--limit", "64M", "--threads", "1",
                    "--kdf-memory", "8M", "--kdf-iterations", "1")
                    .redirectErrorStream(true);
            // No class-data-sharing archive to write at exit: that alone takes a minute under TCG.
            pb.environment().put("BLKSNAP_CDS", "0");
            Path passwordFile = Files.createTempFile("backup-password", "");
            passwordFile.toFile().deleteOnExit();
            Files.writeString(passwordFile, PASSWORD + "\n");
            pb.environment().put("BLKSNAP_PASSWORD_FILE", passwordFile.toString());
            Process p = pb.start();
            var out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream()));
            StringBuilder seen = new StringBuilder();
            for (String line; (line = out.readLine()) != null; ) {
                seen.append(line).append('\n');
                if (line.contains("taken")) {
                    break;
                }
            }
            assertTrue(seen.toString().contains("taken"), seen.toString());
            assertEquals(1, Snapshots.list().size(), "the backup's snapshot exists while it runs");
            p.destroy();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "blksnap backup create did not stop on SIGTERM");
            assertEquals(143, p.exitValue(), seen.toString());
            assertEquals(List.of(), Snapshots.list(), "SIGTERM left the snapshot behind: " + seen);
            JsonNode list = backup("list", "--repo", repo.toString(), "--json").ok().json();
            assertEquals(0, list.get("backups").size());
            backup("verify", "--repo", repo.toString()).ok();
            // And the next run succeeds.
            assertEquals("full", create(src.device()).get("devices").get(0).get("mode").asText());
        }
    }
}
