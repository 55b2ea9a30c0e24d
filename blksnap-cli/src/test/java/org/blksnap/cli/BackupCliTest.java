package org.blksnap.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.BackupResult;
import org.blksnap.backup.engine.ProgressListener;
import org.blksnap.backup.engine.SnapshotSource;
import org.blksnap.backup.repo.ChunkId;
import org.blksnap.backup.repo.ChunkIndex;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.Repository;
import org.blksnap.cli.doc.ManPage;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The backup commands that need no kernel (list, restore to a file, verify,
 * prune) on a repository the engine filled from a file; 'create' runs in the
 * guest (BackupIT).
 */
class BackupCliTest {
    private static final int CHUNK = 64 << 10;

    @TempDir
    Path dir;
    Path repo;
    byte[] content;
    String backupId;

    @BeforeEach
    void fill() throws IOException {
        repo = dir.resolve("repo");
        content = new byte[20 * CHUNK + 512];
        new Random(7).nextBytes(content);
        java.util.Arrays.fill(content, 4 * CHUNK, 8 * CHUNK, (byte) 0);
        Path image = dir.resolve("vdb.img");
        Files.write(image, content);
        backupId = backup(image).backupId();
    }

    private BackupResult backup(Path image) throws IOException {
        return backup(image, "/dev/vdb", null);
    }

    private BackupResult backup(Path image, String device, String tag) throws IOException {
        SnapshotSource files = new FileSource(device, image, content.length);
        try (Repository r = Repository.openOrCreate(new LocalDirectoryStore(repo), CHUNK)) {
            return new BackupEngine(r, BackupEngine.Options.defaults().withTag(tag), ProgressListener.NONE)
                    .run(files);
        }
    }

    /** Flips a bit in the stored bytes of chunk {@code index} of the backup. */
    private ChunkId damageChunk(int index) throws IOException {
        LocalDirectoryStore store = new LocalDirectoryStore(repo);
        try (Repository r = Repository.open(store, ChunkStore.LockMode.SHARED)) {
            ChunkId id = r.manifest(backupId).devices().getFirst().chunks().get(index);
            ChunkIndex.Location loc = r.index().get(id);
            Path pack = store.path(ChunkStore.Kind.PACK, loc.pack());
            byte[] b = Files.readAllBytes(pack);
            b[(int) loc.offset() + loc.length() / 2] ^= 1;
            Files.write(pack, b);
            return id;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"create", "list", "restore", "verify", "prune", "forget", "check", "migrate"})
    void everyBackupCommandHasHelpWithExamplesAndExitStatus(String command) {
        Run r = Run.of("backup", command, "--help");
        assertEquals(0, r.status(), r::err);
        assertTrue(r.out().startsWith("Usage: blksnap backup " + command), r.out());
        assertTrue(r.out().contains("Examples:\n  blksnap backup " + command), r.out());
        assertTrue(r.out().contains("Exit status:"), r.out());
    }

    @Test
    void theManPageDescribesTheBackupCommands() {
        String page = ManPage.render(Main.commandLine(new PrintWriter(new StringWriter()),
                new PrintWriter(new StringWriter())), "9.9");
        for (String c : List.of("create", "list", "restore", "verify", "prune", "forget", "check", "migrate", "key add",
                "key list", "key remove", "key passwd")) {
            assertTrue(page.contains("\n.SS backup " + c + "\n"), c);
        }
    }

    @Test
    void listRestoreVerifyRoundTrip() throws IOException {
        Run list = Run.of("backup", "list", "--repo", repo.toString());
        assertEquals(0, list.status(), list::err);
        assertTrue(list.out().contains(backupId) && list.out().contains("/dev/vdb"), list.out());

        JsonNode json = new ObjectMapper().readTree(Run.of("backup", "list", "-r", repo.toString(), "--json").out());
        assertEquals(backupId, json.get("backups").get(0).get("id").asText());
        assertEquals(content.length, json.get("backups").get(0).get("devices").get(0).get("size").asLong());

        Path out = dir.resolve("restored.img");
        Run restore = Run.of("backup", "restore", "latest", "-r", repo.toString(), "--to", out.toString(), "--verify");
        assertEquals(0, restore.status(), restore::err);
        assertTrue(restore.out().contains("verified"), restore.out());
        assertArrayEquals(content, Files.readAllBytes(out));

        Run verify = Run.of("backup", "verify", "-r", repo.toString(), "--read-data");
        assertEquals(0, verify.status(), verify::err);
        assertTrue(verify.out().startsWith("ok: 1 backups, 17 chunks decompressed and hashed"), verify.out());
    }

    @Test
    void listNeedsNoManifest() throws IOException {
        String second = backup(dir.resolve("vdb.img")).backupId();
        // Manifests that cannot be read: a list that read one would fail or warn.
        try (var files = Files.list(repo.resolve("manifests"))) {
            for (Path f : files.toList()) {
                Files.write(f, new byte[] {1, 2, 3});
            }
        }
        Run list = Run.of("backup", "list", "-r", repo.toString(), "--json");
        assertEquals(0, list.status(), list::err);
        assertEquals("", list.err());
        JsonNode json = new ObjectMapper().readTree(list.out());
        assertEquals(2, json.get("backups").size());
        assertEquals(backupId, json.get("backups").get(0).get("id").asText());
        assertEquals(second, json.get("backups").get(1).get("id").asText());
        Run restore = Run.of("backup", "restore", "latest", "-r", repo.toString(), "--to",
                dir.resolve("x.img").toString());
        assertEquals(1, restore.status(), "a restore does need one: " + restore.err());
    }

    @Test
    void pruneKeepsTheNewest() throws IOException {
        String second = backup(dir.resolve("vdb.img")).backupId();
        Run prune = Run.of("backup", "prune", "-r", repo.toString(), "--keep-last", "1", "--json");
        assertEquals(0, prune.status(), prune::err);
        JsonNode json = new ObjectMapper().readTree(prune.out());
        assertEquals(backupId, json.get("removed").get(0).asText());
        assertEquals(second, json.get("kept").get(0).asText());
        Run none = Run.of("backup", "prune", "-r", repo.toString());
        assertEquals(ExitCodes.USAGE, none.status());
        assertEquals(1, none.errLines(), none::err);
    }

    private long packBytes() throws IOException {
        try (var s = Files.walk(repo.resolve("packs"))) {
            return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    @Test
    void pruneRewritesPartlyUnusedPacksPastMaxUnusedAndGivesTheSpaceBack() throws IOException {
        // The second backup replaces every other chunk: once the first goes, 8 of the 17 chunks of its pack are unused.
        byte[] next = content.clone();
        Random random = new Random(8);
        for (int c = 0; c < 20; c += 2) {
            byte[] fresh = new byte[CHUNK];
            random.nextBytes(fresh);
            System.arraycopy(fresh, 0, next, c * CHUNK, CHUNK);
        }
        Path image = dir.resolve("vdb.img");
        Files.write(image, next);
        String second = backup(image).backupId();
        long before = packBytes();

        Run dry = Run.of("backup", "prune", "-r", repo.toString(), "--keep-last", "1", "--dry-run", "--json");
        assertEquals(0, dry.status(), dry::err);
        JsonNode d = new ObjectMapper().readTree(dry.out());
        assertEquals(1, d.get("packs_repacked").asInt(), dry.out());
        assertEquals(9, d.get("chunks_copied").asInt(), dry.out());
        assertTrue(d.get("bytes_freed").asLong() >= 8L * CHUNK, dry.out());
        assertEquals(before, packBytes(), "a dry run changes nothing");

        Run kept = Run.of("backup", "prune", "-r", repo.toString(), "--keep-last", "1", "--max-unused", "unlimited",
                "--json");
        assertEquals(0, kept.status(), kept::err);
        JsonNode k = new ObjectMapper().readTree(kept.out());
        assertEquals(backupId, k.get("removed").get(0).asText());
        assertEquals(0, k.get("packs_repacked").asInt());
        assertEquals(0, k.get("bytes_freed").asLong());
        assertEquals(before, packBytes(), "unlimited: the partly unused pack stays");

        Run prune = Run.of("backup", "prune", "-r", repo.toString(), "--keep-last", "1");
        assertEquals(0, prune.status(), prune::err);
        long after = packBytes();
        assertTrue(before - after >= 8L * CHUNK, "the 8 unused chunks' space came back: " + before + " -> " + after);
        assertTrue(prune.out().contains("removed 0 backups, kept 1; 0 unreferenced chunks removed, 1 partly unused "
                + "packs rewritten (9 chunks copied)"), prune.out());

        Path out = dir.resolve("restored.img");
        Run restore = Run.of("backup", "restore", second, "-r", repo.toString(), "--to", out.toString(), "--verify");
        assertEquals(0, restore.status(), restore::err);
        assertArrayEquals(next, Files.readAllBytes(out));
        Run check = Run.of("backup", "check", "-r", repo.toString(), "--read-data");
        assertEquals(0, check.status(), check::out);

        assertOneLine(Run.of("backup", "prune", "-r", repo.toString(), "--keep-last", "1", "--max-unused", "100%"),
                ExitCodes.USAGE, "--max-unused");
        assertOneLine(Run.of("backup", "prune", "-r", repo.toString(), "--keep-last", "1", "--max-unused", "lots"),
                ExitCodes.USAGE, "--max-unused: expected a share such as 5%, a size such as 100M, or unlimited");
    }

    @Test
    void pruneAndForgetHelpExplainMaxUnused() {
        Run prune = Run.of("backup", "prune", "--help");
        assertEquals(0, prune.status(), prune::err);
        String help = prune.out().replaceAll("\\s+", " ");
        assertTrue(help.contains("--max-unused=LIMIT"), help);
        assertTrue(help.contains("N% of the pack bytes (default: 5%), a size (e.g. 500M), or unlimited"), help);
        assertTrue(help.contains("restic's prune does the same"), help);
        assertTrue(help.contains("A damaged chunk stops it with nothing removed"), help);
        assertTrue(help.contains("blksnap backup prune -r /backup/vdb --keep-last unlimited --max-unused 0%"), help);
        Run forget = Run.of("backup", "forget", "--help");
        assertTrue(forget.out().contains("--max-unused=LIMIT"), forget.out());
    }

    /** The bug of the repository-wide prune: keep-last 1 removed the other device's backups. */
    @Test
    void pruneKeepsEachDevicesOwnBackups() throws IOException {
        Path image = dir.resolve("vdb.img");
        String vdc = backup(image, "/dev/vdc", null).backupId();
        String vdbNewest = backup(image, "/dev/vdb", null).backupId();
        Run prune = Run.of("backup", "prune", "-r", repo.toString(), "--keep-last", "1", "--json");
        assertEquals(0, prune.status(), prune::err);
        JsonNode json = new ObjectMapper().readTree(prune.out());
        assertEquals(List.of(backupId), List.of(new ObjectMapper().convertValue(json.get("removed"), String[].class)));
        assertEquals(List.of(vdc, vdbNewest),
                List.of(new ObjectMapper().convertValue(json.get("kept"), String[].class)));
        Run list = Run.of("backup", "list", "-r", repo.toString());
        assertTrue(list.out().contains(vdc) && list.out().contains(vdbNewest) && !list.out().contains(backupId),
                list.out());
    }

    @Test
    void pruneDryRunSaysWhatItKeepsAndWhyAndChangesNothing() throws IOException {
        Path image = dir.resolve("vdb.img");
        String nightly = backup(image, "/dev/vdb", "nightly").backupId();
        String newest = backup(image, "/dev/vdb", null).backupId();
        Run dry = Run.of("backup", "prune", "-r", repo.toString(), "--keep-last", "1", "--keep-daily", "1",
                "--group-by", "device-tags", "--dry-run");
        assertEquals(0, dry.status(), dry::err);
        assertTrue(dry.out().contains("would keep " + newest + ": last of /dev/vdb [no tag], daily of /dev/vdb "
                + "[no tag]\n"), dry.out());
        assertTrue(dry.out().contains("would keep " + nightly + ": last of /dev/vdb [nightly], daily of /dev/vdb "
                + "[nightly]\n"), dry.out());
        assertTrue(dry.out().contains("would remove " + backupId + "\n"), dry.out());
        assertTrue(dry.out().contains("would remove 1 backups, kept 2; 0 unreferenced chunks removed"), dry.out());
        JsonNode json = new ObjectMapper().readTree(Run.of("backup", "prune", "-r", repo.toString(), "--keep-within",
                "1h", "--dry-run", "--json").out());
        assertEquals(3, json.get("backups").size());
        assertEquals("within 1h", json.get("backups").get(2).get("reasons").get(0).get("rule").asText());
        assertEquals("/dev/vdb", json.get("backups").get(2).get("reasons").get(0).get("group").asText());
        assertEquals(3, Run.of("backup", "list", "-r", repo.toString(), "--json").out().split("\"id\"", -1).length - 1,
                "a dry run removes nothing");
        assertOneLine(Run.of("backup", "prune", "-r", repo.toString(), "--keep-weekly", "-1"), ExitCodes.USAGE,
                "invalid count '-1': expected 0 or more, or unlimited");
        assertOneLine(Run.of("backup", "prune", "-r", repo.toString(), "--keep-within", "2x"), ExitCodes.USAGE,
                "invalid span '2x'");
        assertOneLine(Run.of("backup", "prune", "-r", repo.toString(), "--group-by", "host"), ExitCodes.USAGE,
                "invalid grouping 'host'");
    }

    @Test
    void quietPrintsNothingButTheResultAskedFor() throws IOException {
        Path out = dir.resolve("quiet.img");
        Run restore = Run.of("backup", "restore", "latest", "-r", repo.toString(), "--to", out.toString(), "-q");
        assertEquals(0, restore.status(), restore::err);
        assertEquals("", restore.out());
        assertEquals("", restore.err());
        assertArrayEquals(content, Files.readAllBytes(out));
        Run verify = Run.of("backup", "verify", "-r", repo.toString(), "--quiet");
        assertEquals(0, verify.status(), verify::err);
        assertEquals("", verify.out() + verify.err());
        Run json = Run.of("backup", "verify", "-r", repo.toString(), "--quiet", "--json");
        assertTrue(json.out().contains("\"ok\":true"), json.out());
        Run prune = Run.of("backup", "prune", "-r", repo.toString(), "--keep-last", "1", "-q");
        assertEquals(0, prune.status(), prune::err);
        assertEquals("", prune.out() + prune.err());
    }

    @Test
    void theRepositoryDefaultsToBlksnapRepo() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "backup", "list", "--json");
        pb.environment().put("BLKSNAP_REPO", repo.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        String err = new String(p.getErrorStream().readAllBytes());
        assertEquals(0, p.waitFor(), err);
        assertEquals(backupId, new ObjectMapper().readTree(out).get("backups").get(0).get("id").asText());

        pb.environment().remove("BLKSNAP_REPO");
        Process none = pb.start();
        String noneErr = new String(none.getErrorStream().readAllBytes());
        assertEquals(ExitCodes.USAGE, none.waitFor(), noneErr);
        assertEquals("blksnap backup list: missing --repo DIR (or set BLKSNAP_REPO)\n", noneErr);
    }

    private static void assertOneLine(Run r, int status, String text) {
        assertEquals(status, r.status(), r::err);
        assertEquals(1, r.errLines(), r::err);
        assertTrue(r.err().contains(text), r.err());
    }

    @Test
    void restoreWritesOnlyToABlockDeviceOrAFileOutsideDev() throws IOException {
        Run toNull = Run.of("backup", "restore", "latest", "-r", repo.toString(), "--to", "/dev/null");
        assertOneLine(toNull, ExitCodes.FAILURE, "/dev/null is a character device");
        assertEquals(0020000, (Integer) Files.getAttribute(Path.of("/dev/null"), "unix:mode") & 0170000,
                "/dev/null is still a character device");
        assertOneLine(Run.of("backup", "restore", "latest", "-r", repo.toString(), "--to", "/dev/sdz-blksnap-test"),
                ExitCodes.FAILURE, "under /dev only an existing block device can be restored to");
        assertTrue(!Files.exists(Path.of("/dev/sdz-blksnap-test")));
        assertOneLine(Run.of("backup", "restore", "latest", "-r", repo.toString(), "--to", dir.toString()),
                ExitCodes.FAILURE, dir + " is a directory");
        Path inMissingDir = dir.resolve("nodir/x.img");
        assertOneLine(Run.of("backup", "restore", "latest", "-r", repo.toString(), "--to", inMissingDir.toString()),
                ExitCodes.FAILURE, "cannot create " + inMissingDir + ": " + dir.resolve("nodir") + " does not exist");

        Path existing = Files.writeString(dir.resolve("existing.img"), "mine");
        assertOneLine(Run.of("backup", "restore", "latest", "-r", repo.toString(), "--to", existing.toString()),
                ExitCodes.FAILURE, existing + " exists: give --force to replace it");
        assertEquals("mine", Files.readString(existing));
        Run forced = Run.of("backup", "restore", "latest", "-r", repo.toString(), "--to", existing.toString(),
                "--force", "--verify");
        assertEquals(0, forced.status(), forced::err);
        assertArrayEquals(content, Files.readAllBytes(existing));
    }

    @Test
    void createRefusesAMissingDeviceBeforeMakingARepository() {
        Path fresh = dir.resolve("fresh");
        Run r = Run.of("backup", "create", "--device", dir.resolve("nodev").toString(), "--repo", fresh.toString());
        assertEquals(ExitCodes.NOT_FOUND, r.status(), r::err);
        assertEquals(1, r.errLines(), r::err);
        assertTrue(r.err().contains("no such device"), r.err());
        assertTrue(!Files.exists(fresh), "no repository made");
    }

    @Test
    void createThatFailsBeforeItStartsLeavesNoRepository() throws IOException {
        // A real block device passes every check; the take then fails
        // because the host has no blksnap module. Nothing is written to it.
        Path loop = Path.of("/dev/loop0");
        if (((Integer) Files.getAttribute(loop, "unix:mode") & 0170000) != 0060000) {
            throw new IllegalStateException("this test needs the block device /dev/loop0");
        }
        Path fresh = dir.resolve("fresh");
        // The password of a new encrypted repository is asked for before the take.
        Run noPassword = Run.of("backup", "create", "--device", loop.toString(), "--repo", fresh.toString(), "-s",
                dir.toString(), "-l", "1G");
        assertEquals(ExitCodes.FAILURE, noPassword.status(), noPassword::err);
        assertEquals(1, noPassword.errLines(), noPassword::err);
        assertTrue(noPassword.err().contains("no password"), noPassword.err());
        assertTrue(!Files.exists(fresh), "no repository made");
        Run r = Run.of("backup", "create", "--device", loop.toString(), "--repo", fresh.toString(), "-s",
                dir.toString(), "-l", "1G", "--password-command", "printf pw");
        assertEquals(ExitCodes.MODULE_NOT_LOADED, r.status(), r::err);
        assertEquals(1, r.errLines(), r::err);
        assertTrue(!Files.exists(fresh), "no repository made");
        Path empty = Files.createDirectory(dir.resolve("empty"));
        Run again = Run.of("backup", "create", "-d", loop.toString(), "-r", empty.toString(), "-s", dir.toString(),
                "-l", "1G", "--encryption", "none");
        assertEquals(ExitCodes.MODULE_NOT_LOADED, again.status(), again::err);
        try (var entries = Files.list(empty)) {
            assertEquals(List.of(), entries.toList(), "the empty directory stays empty");
        }
    }

    @Test
    void badInputGetsOneLineAndLeavesTheRepositoryAlone() throws IOException {
        assertOneLine(Run.of("backup", "list", "-r", dir.resolve("none").toString()), 1,
                "is not a blksnap backup repository");
        assertOneLine(Run.of("backup", "restore", "nosuch", "-r", repo.toString(), "--to", dir.resolve("x").toString()),
                1, "no backup 'nosuch'");
        assertOneLine(Run.of("backup", "restore", backupId, "-r", repo.toString(), "--device", "/dev/vdz", "--to",
                dir.resolve("x").toString()), 1, "holds no device /dev/vdz");

        ChunkId damaged = damageChunk(1);
        Run quick = Run.of("backup", "verify", "-r", repo.toString());
        assertEquals(0, quick.status(), "without --read-data no chunk data is read: " + quick.out());
        Run verify = Run.of("backup", "verify", "-r", repo.toString(), "--read-data");
        assertEquals(1, verify.status());
        assertTrue(verify.out().contains("chunk " + damaged + " in pack "), verify.out());
        assertTrue(verify.out().contains("is damaged: its bytes fail their checksum"), verify.out());
        assertTrue(verify.out().contains("FAILED: 1 backups, 17 chunks decompressed and hashed, 1 problems"),
                verify.out());

        Path target = dir.resolve("target.img");
        Run restore = Run.of("backup", "restore", backupId, "-r", repo.toString(), "--to", target.toString());
        assertEquals(1, restore.status());
        assertEquals(1, restore.errLines(), restore::err);
        assertTrue(restore.err().contains(damaged.toString()), restore.err());
        assertTrue(!Files.exists(target), "no half-restored file");
        Run ignoring = Run.of("backup", "restore", backupId, "-r", repo.toString(), "--to", target.toString(),
                "--ignore-errors");
        assertEquals(1, ignoring.status(), ignoring::err);
        assertTrue(ignoring.err().contains("lost: bytes " + CHUNK + ".." + (2 * CHUNK - 1) + " written as zeros: chunk "
                + damaged), ignoring.err());
        byte[] expected = content.clone();
        java.util.Arrays.fill(expected, CHUNK, 2 * CHUNK, (byte) 0);
        assertArrayEquals(expected, Files.readAllBytes(target), "everything else restored");
        Files.delete(target);

        Path summary = repo.resolve("summaries").resolve(backupId + ".json");
        Files.writeString(summary, "{\"format\": 2, \"id\": \"");
        Run list = Run.of("backup", "list", "-r", repo.toString());
        assertOneLine(list, 0, "warning: backup " + backupId + ": its summary is damaged");
        assertTrue(list.out().contains("no backups"), list.out());
        long packs = Files.walk(repo.resolve("packs")).filter(Files::isRegularFile).count();
        assertOneLine(Run.of("backup", "prune", "-r", repo.toString(), "--keep-last", "1"), 1, "nothing was removed");
        assertEquals(packs, Files.walk(repo.resolve("packs")).filter(Files::isRegularFile).count(),
                "prune removed no pack");
    }

    @Test
    void aRepositoryInUseGivesTheBusyStatusOrIsWaitedFor() throws Exception {
        Repository pruning = Repository.open(new LocalDirectoryStore(repo), ChunkStore.LockMode.EXCLUSIVE);
        try {
            assertOneLine(Run.of("backup", "list", "-r", repo.toString()), ExitCodes.BUSY,
                    "is in use by another blksnap backup command");
            Thread release = Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(500);
                    pruning.close();
                } catch (InterruptedException | IOException e) {
                    throw new IllegalStateException(e);
                }
            });
            Run waited = Run.of("backup", "list", "-r", repo.toString(), "--lock-wait", "30s");
            assertEquals(0, waited.status(), waited::err);
            assertTrue(waited.out().contains(backupId), waited.out());
            release.join();
        } finally {
            pruning.close();
        }
        Run bad = Run.of("backup", "list", "-r", repo.toString(), "--lock-wait", "soon");
        assertEquals(ExitCodes.USAGE, bad.status(), bad::err);
    }

    @Test
    void aFormat1RepositoryIsMigratedInPlaceAndThenListed() throws IOException {
        Path v1 = dir.resolve("v1");
        try (var s = Files.walk(Path.of("../blksnap-backup/src/test/fixtures/v1-repository/repo"))) {
            Path from = Path.of("../blksnap-backup/src/test/fixtures/v1-repository/repo");
            for (Path p : (Iterable<Path>) s::iterator) {
                Path t = v1.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
        Files.createDirectories(v1.resolve("tmp"));
        assertOneLine(Run.of("backup", "list", "-r", v1.toString()), 1,
                "is a format 1 repository (one file per chunk, JSON manifests): convert it in place, keeping every "
                        + "backup, with 'blksnap backup migrate --repo " + v1.toAbsolutePath() + "'");

        Run migrate = Run.of("backup", "migrate", "-r", v1.toString());
        assertEquals(0, migrate.status(), migrate::err);
        assertTrue(migrate.out().startsWith("migrated " + v1.toAbsolutePath() + " to format 2: 3 backups, "),
                migrate.out());
        JsonNode list = new ObjectMapper().readTree(Run.of("backup", "list", "-r", v1.toString(), "--json").out());
        assertEquals(3, list.get("backups").size(), list.toString());
        assertEquals("nightly", list.get("backups").get(2).get("tag").asText());
        Run verify = Run.of("backup", "verify", "-r", v1.toString(), "--read-data");
        assertEquals(0, verify.status(), verify::err);

        JsonNode again = new ObjectMapper().readTree(Run.of("backup", "migrate", "-r", v1.toString(), "--json").out());
        assertFalse(again.get("migrated").asBoolean());
        assertOneLine(Run.of("backup", "migrate", "-r", "s3:bucket"), 2, "format 1 repositories are local directories");
    }

    @Test
    void forgetRemovesOneBackup() throws IOException {
        String second = backup(dir.resolve("vdb.img")).backupId();
        Run forget = Run.of("backup", "forget", backupId, "-r", repo.toString(), "--json");
        assertEquals(0, forget.status(), forget::err);
        JsonNode list = new ObjectMapper().readTree(Run.of("backup", "list", "-r", repo.toString(), "--json").out());
        assertEquals(1, list.get("backups").size());
        assertEquals(second, list.get("backups").get(0).get("id").asText());
        assertOneLine(Run.of("backup", "forget", "nosuch", "-r", repo.toString()), 1, "no backup 'nosuch'");
    }

    @Test
    void checkRepairsALostIndexFromThePacks() throws IOException {
        Path index = repo.resolve("index");
        try (var files = Files.list(index)) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        Run check = Run.of("backup", "check", "-r", repo.toString());
        assertEquals(1, check.status(), check::out);
        assertTrue(check.out().contains("chunks no index names (--repair indexes them again)"), check.out());
        assertTrue(check.out().contains("is missing from"), check.out());
        Run repair = Run.of("backup", "check", "-r", repo.toString(), "--repair", "--read-data-subset", "50%");
        assertEquals(0, repair.status(), repair::out);
        assertTrue(repair.out().contains("repaired: indexed again 17 chunks"), repair.out());
        Path out = dir.resolve("after-repair.img");
        assertEquals(0, Run.of("backup", "restore", "latest", "-r", repo.toString(), "--to", out.toString()).status());
        assertArrayEquals(content, Files.readAllBytes(out));
        Run bad = Run.of("backup", "check", "-r", repo.toString(), "--read-data-subset", "0%");
        assertOneLine(bad, ExitCodes.USAGE, "expected a share from 1% to 100%");
    }
}
