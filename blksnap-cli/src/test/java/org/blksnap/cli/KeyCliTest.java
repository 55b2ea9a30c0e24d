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

import org.blksnap.backup.engine.BackupEngine;
import org.blksnap.backup.engine.ProgressListener;
import org.blksnap.backup.engine.SnapshotSource;
import org.blksnap.backup.repo.KeyRing;
import org.blksnap.backup.repo.LocalDirectoryStore;
import org.blksnap.backup.repo.Repository;
import org.blksnap.backup.repo.Secret;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The password sources, the wrong-password line and {@code backup key add|list|remove|passwd}. */
class KeyCliTest {
    private static final int CHUNK = 64 << 10;
    private static final String[] CHEAP = {"--kdf-memory", "64K", "--kdf-iterations", "1"};

    @TempDir
    Path dir;
    Path repo;
    byte[] content;
    String backupId;

    @BeforeEach
    void fill() throws IOException {
        repo = dir.resolve("repo");
        content = new byte[6 * CHUNK + 100];
        new Random(3).nextBytes(content);
        Path image = dir.resolve("vdb.img");
        Files.write(image, content);
        SnapshotSource files = new FileSource("/dev/vdb", image, content.length);
        Secret pw = new Secret.Password("first pw".toCharArray());
        try (Repository r = Repository.openForBackup(new LocalDirectoryStore(repo), new Repository.NewRepository(
                CHUNK, Repository.DEFAULT_PACK_SIZE, true, new KeyRing.Argon2(64, 1, 1)), Duration.ZERO, () -> pw)) {
            backupId = new BackupEngine(r, BackupEngine.Options.defaults(), ProgressListener.NONE).run(files)
                    .backupId();
        }
    }

    private static String[] args(String[] a, String... more) {
        String[] out = java.util.Arrays.copyOf(a, a.length + more.length);
        System.arraycopy(more, 0, out, a.length, more.length);
        return out;
    }

    private Run list(String... secret) {
        return Run.of(args(new String[] {"backup", "list", "-r", repo.toString()}, secret));
    }

    @Test
    void thePasswordComesFromACommandAndAWrongOneGetsOneLineAndStatus8() {
        Run ok = list("--password-command", "printf 'first pw\\n'");
        assertEquals(0, ok.status(), ok.err());
        assertTrue(ok.out().contains(backupId), ok.out());

        Run wrong = list("--password-command", "printf nope");
        assertEquals(ExitCodes.WRONG_KEY, wrong.status());
        assertEquals(1, wrong.errLines(), wrong.err());
        assertTrue(wrong.err().contains("wrong password for " + repo), wrong.err());

        Run failing = list("--password-command", "exit 3");
        assertEquals(ExitCodes.FAILURE, failing.status());
        assertEquals("blksnap backup list: --password-command failed (exit status 3)", failing.err().strip());
    }

    @Test
    void thePasswordComesFromAPasswordFileAsAJobGivesIt() throws IOException {
        Path pw = Files.writeString(dir.resolve("repo.pw"), "first pw\n");
        Run ok = list("--password-file", pw.toString());
        assertEquals(0, ok.status(), ok.err());
        assertTrue(ok.out().contains(backupId), ok.out());

        Files.writeString(pw, "nope\n");
        Run wrong = list("--password-file", pw.toString());
        assertEquals(ExitCodes.WRONG_KEY, wrong.status(), wrong.err());
        assertEquals(1, wrong.errLines(), wrong.err());

        Files.writeString(pw, "\n");
        Run empty = list("--password-file", pw.toString());
        assertEquals(ExitCodes.FAILURE, empty.status(), empty.err());
        assertEquals("blksnap backup list: the password from --password-file " + pw + " is empty",
                empty.err().strip());
    }

    /** Runs the command in its own JVM, where the environment can be set. */
    private Run process(String passwordFile, String... args) throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File(
                "/dev/null")));
        pb.environment().put("BLKSNAP_PASSWORD_FILE", passwordFile);
        Path out = dir.resolve("out.txt");
        Path err = dir.resolve("err.txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "blksnap did not finish");
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    @Test
    void thePasswordComesFromBlksnapPasswordFileAndAWrongOneExits8() throws Exception {
        Path good = dir.resolve("good.pw");
        Files.writeString(good, "first pw\n");
        Run ok = process(good.toString(), "backup", "list", "-r", repo.toString());
        assertEquals(0, ok.status(), ok.err());
        assertTrue(ok.out().contains(backupId), ok.out());

        Path bad = dir.resolve("bad.pw");
        Files.writeString(bad, "first pw, almost\n");
        Run wrong = process(bad.toString(), "backup", "list", "-r", repo.toString());
        assertEquals(8, wrong.status(), wrong.err());
        assertEquals("blksnap backup list: wrong password for " + repo + " (none of its keys opens with it)",
                wrong.err().strip());
    }

    @Test
    void withoutATerminalOrAPasswordSourceOneLineSaysWhereAPasswordCanComeFrom() {
        // The test JVM has no terminal (surefire pipes its streams); BLKSNAP_PASSWORD_FILE is not set.
        Run none = list();
        assertEquals(ExitCodes.FAILURE, none.status());
        assertEquals(1, none.errLines(), none.err());
        assertTrue(none.err().contains("no password: set BLKSNAP_PASSWORD_FILE"), none.err());
    }

    @Test
    void keysAreAddedListedChangedAndRemoved() throws IOException {
        Path keyFile = dir.resolve("vdb.key");
        byte[] k = new byte[64];
        new Random(9).nextBytes(k);
        Files.write(keyFile, k);
        String r = repo.toString();
        String pw1 = "printf 'first pw'";

        Run add = Run.of(args(new String[] {"backup", "key", "add", "-r", r, "--password-command", pw1,
            "--new-key-file", keyFile.toString()}, CHEAP));
        assertEquals(0, add.status(), add.err());
        Run keys = Run.of("backup", "key", "list", "-r", r, "--json");
        assertEquals(0, keys.status(), keys.err());
        assertEquals(2, keys.out().split("\"id\"").length - 1, keys.out());
        assertTrue(keys.out().contains("\"kind\":\"key-file\""), keys.out());

        Path out = dir.resolve("restored.img");
        Run restore = Run.of("backup", "restore", backupId, "-r", r, "--key-file", keyFile.toString(), "--to",
                out.toString());
        assertEquals(0, restore.status(), restore.err());
        assertArrayEquals(content, Files.readAllBytes(out));

        Run passwd = Run.of(args(new String[] {"backup", "key", "passwd", "-r", r, "--password-command", pw1,
            "--new-password-command", "printf 'second pw'"}, CHEAP));
        assertEquals(0, passwd.status(), passwd.err());
        assertEquals(ExitCodes.WRONG_KEY, list("--password-command", pw1).status());
        assertEquals(0, list("--password-command", "printf 'second pw'").status());

        String fileKeyId = null;
        for (KeyRing.Key key : KeyRing.read(new LocalDirectoryStore(repo)).keys()) {
            if (KeyRing.KEY_FILE.equals(key.kdf().algorithm())) {
                fileKeyId = key.id();
            }
        }
        Run remove = Run.of("backup", "key", "remove", fileKeyId, "-r", r, "--password-command",
                "printf 'second pw'");
        assertEquals(0, remove.status(), remove.err());
        assertEquals(ExitCodes.WRONG_KEY, list("--key-file", keyFile.toString()).status());
        String last = KeyRing.read(new LocalDirectoryStore(repo)).keys().getFirst().id();
        Run removeLast = Run.of("backup", "key", "remove", last, "-r", r, "--password-command",
                "printf 'second pw'");
        assertEquals(ExitCodes.FAILURE, removeLast.status());
        assertTrue(removeLast.err().contains("refusing to remove the last key"), removeLast.err());
    }
}
