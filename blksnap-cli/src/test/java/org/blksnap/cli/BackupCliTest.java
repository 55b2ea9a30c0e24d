package org.blksnap.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
import org.blksnap.backup.engine.SourceDevice;
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
        SnapshotSource files = new SnapshotSource() {
            @Override
            public List<SourceDevice> devices() {
                return List.of(new SourceDevice(device, image, content.length, null));
            }

            @Override
            public void checkIntact() {
            }

            @Override
            public void close() {
            }
        };
        try (Repository r = Repository.openOrCreate(new LocalDirectoryStore(repo), CHUNK)) {
            return new BackupEngine(r, BackupEngine.Options.defaults().withTag(tag), ProgressListener.NONE)
                    .run(files);
        }
    }

    private String chunk(int index) throws IOException {
        try (Repository r = Repository.open(new LocalDirectoryStore(repo), ChunkStore.LockMode.SHARED)) {
            return r.manifest(backupId).devices().getFirst().chunks().get(index);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"create", "list", "restore", "verify", "prune"})
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
        for (String c : List.of("create", "list", "restore", "verify", "prune")) {
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
        Run r = Run.of("backup", "create", "--device", loop.toString(), "--repo", fresh.toString(), "-s",
                dir.toString(), "-l", "1G");
        assertEquals(ExitCodes.MODULE_NOT_LOADED, r.status(), r::err);
        assertEquals(1, r.errLines(), r::err);
        assertTrue(!Files.exists(fresh), "no repository made");
        Path empty = Files.createDirectory(dir.resolve("empty"));
        Run again = Run.of("backup", "create", "-d", loop.toString(), "-r", empty.toString(), "-s", dir.toString(),
                "-l", "1G");
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

        String damaged = chunk(1);
        String missing = chunk(2);
        Path damagedFile = new LocalDirectoryStore(repo).path(ChunkStore.Kind.CHUNK, damaged);
        byte[] b = Files.readAllBytes(damagedFile);
        b[b.length / 2] ^= 1;
        Files.write(damagedFile, b);
        Files.delete(new LocalDirectoryStore(repo).path(ChunkStore.Kind.CHUNK, missing));
        Run verify = Run.of("backup", "verify", "-r", repo.toString());
        assertEquals(1, verify.status());
        assertTrue(verify.out().contains("chunk " + damaged + " is damaged"), verify.out());
        assertTrue(verify.out().contains("chunk " + missing + " is missing"), verify.out());
        assertTrue(verify.out().contains("FAILED: 1 backups, 17 chunks checked, 2 problems"), verify.out());

        Path target = dir.resolve("target.img");
        Run restore = Run.of("backup", "restore", backupId, "-r", repo.toString(), "--to", target.toString());
        assertEquals(1, restore.status());
        assertEquals(1, restore.errLines(), restore::err);
        assertTrue(restore.err().contains(damaged) || restore.err().contains(missing), restore.err());
        assertTrue(!Files.exists(target), "no half-restored file");

        Path manifest = repo.resolve("manifests").resolve(backupId + ".json");
        Files.writeString(manifest, "{\"format\": 1, \"id\": \"");
        assertOneLine(Run.of("backup", "list", "-r", repo.toString()), 1,
                "backup " + backupId + ": its manifest is damaged");
        assertOneLine(Run.of("backup", "prune", "-r", repo.toString(), "--keep-last", "1"), 1, "nothing was removed");
        assertEquals(16, Files.walk(repo.resolve("chunks")).filter(Files::isRegularFile).count(),
                "prune removed no chunk");
    }
}
