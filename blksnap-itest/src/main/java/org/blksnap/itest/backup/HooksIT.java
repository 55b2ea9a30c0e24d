package org.blksnap.itest.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Shell;
import org.blksnap.itest.support.Snapshots;
import org.blksnap.itest.verify.Evidence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * backup create's pre-freeze and post-thaw hooks around a real take: what a
 * pre-freeze hook writes is in the backup, what post-thaw writes is not;
 * the hooks see the devices and the snapshot; a failing pre-freeze stores
 * nothing and leaves no snapshot; post-thaw runs also then.
 */
class HooksIT {
    private static final long DEVICE = 32L << 20;

    private Path repo;
    private Path hooks;
    private Path trace;

    @BeforeEach
    void dirs() throws IOException {
        repo = Files.createTempDirectory("hooks-repo");
        hooks = Files.createTempDirectory("hooks.d");
        trace = Files.createTempFile("hooks-trace", "");
    }

    @AfterEach
    void clean() throws IOException {
        Shell.run("rm", "-rf", repo.toString(), hooks.toString(), trace.toString());
        assertEquals(List.of(), Snapshots.list(), "a backup left a snapshot behind");
    }

    private Blksnap.Result create(Path device, String... extra) {
        String[] base = {"backup", "create", "--device", device.toString(), "--repo", repo.toString(), "--storage",
            "/tmp", "--limit", "32M", "--encryption", "none", "--hooks-dir", hooks.toString()};
        String[] args = java.util.Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        return Blksnap.run(args);
    }

    /** A hook that records its phase and environment in the trace, and fails in the phases named. */
    private void tracer(String name, String failIn) throws IOException {
        Hooks.script(hooks, name, "echo \"" + name + " $1 $BLKSNAP_DEVICES $BLKSNAP_SNAPSHOT_ID "
                + "${BLKSNAP_TAKEN-} $BLKSNAP_REPO\" >> " + trace + "\n"
                + "case \" " + failIn + " \" in *\" $1 \"*) echo \"" + name + " refuses $1\"; exit 3;; esac\n");
    }

    @Test
    void whatPreFreezeWritesIsInTheBackupAndWhatPostThawWritesIsNot() throws Exception {
        try (LoopDevice src = LoopDevice.create(DEVICE); LoopDevice target = LoopDevice.create(DEVICE);
                LiveFs fs = LiveFs.create(src.device())) {
            Hooks.install(hooks, "10-sync");
            // The application's last words before the take, and its first after it.
            Hooks.script(hooks, "20-app", "echo \"$BLKSNAP_SNAPSHOT_ID\" > " + fs.mount.resolve("$1.mark") + "\n"
                    + "echo \"app $1 done\"\n");
            tracer("30-trace", "");
            Blksnap.Result r = create(src.device(), "--json").ok();
            Evidence.add(Evidence.Tally.SNAPSHOTS_TAKEN, 1);
            JsonNode out = r.json();
            String id = Files.readString(fs.mount.resolve("pre-freeze.mark")).strip();
            assertEquals(id, Files.readString(fs.mount.resolve("post-thaw.mark")).strip());
            assertEquals(List.of("30-trace pre-freeze " + src.path() + " " + id + "  " + repo,
                    "30-trace post-thaw " + src.path() + " " + id + " yes " + repo), Files.readAllLines(trace));
            // Name order for pre-freeze, the reverse for post-thaw, each line of output logged.
            List<String> hookLines = r.err().lines().filter(l -> l.contains(": hook ")).toList();
            assertEquals(List.of("hook 10-sync pre-freeze: done", "hook 20-app pre-freeze: app pre-freeze done",
                    "hook 20-app pre-freeze: done", "hook 30-trace pre-freeze: done", "hook 30-trace post-thaw: done",
                    "hook 20-app post-thaw: app post-thaw done", "hook 20-app post-thaw: done",
                    "hook 10-sync post-thaw: done"), hookLines.stream()
                    .map(l -> l.substring(l.indexOf("hook ")).replaceFirst(" after [0-9.]+ s$", "")).toList(),
                    r.err());

            Blksnap.run("backup", "restore", out.get("backup").asText(), "--repo", repo.toString(), "--to",
                    target.path(), "--verify").ok();
            Path mnt = Files.createTempDirectory("hooks-restored");
            Shell.sh("mount", "-o", "ro", target.path(), mnt.toString());
            try {
                assertEquals(id, Files.readString(mnt.resolve("pre-freeze.mark")).strip(),
                        "the pre-freeze hook ran before the take");
                assertFalse(Files.exists(mnt.resolve("post-thaw.mark")), "the post-thaw hook ran after the take");
            } finally {
                Shell.sh("umount", mnt.toString());
                Files.delete(mnt);
            }
        }
    }

    @Test
    void aFailingPreFreezeStoresNothingAndStillThaws() throws Exception {
        try (LoopDevice src = LoopDevice.create(DEVICE)) {
            LiveFs.write(src.file(), (int) (4L << 20), 3);
            tracer("10-first", "");
            tracer("20-db", "pre-freeze");
            tracer("30-never", "");
            Blksnap.Result r = create(src.device());
            assertEquals(9, r.status(), r.err());
            List<String> err = r.err().lines().toList();
            assertTrue(err.getLast().matches("blksnap backup create: hook 20-db pre-freeze: exit status 3 after "
                    + "[0-9.]+ s: nothing was backed up"), r.err());
            assertTrue(err.contains("blksnap backup create: hook 20-db pre-freeze: 20-db refuses pre-freeze"), r.err());
            List<String> t = Files.readAllLines(trace);
            assertEquals(4, t.size(), t::toString);
            assertTrue(t.get(0).startsWith("10-first pre-freeze ") && t.get(1).startsWith("20-db pre-freeze "), t::toString);
            assertTrue(t.get(2).startsWith("20-db post-thaw ") && t.get(2).contains(" no "), t::toString);
            assertTrue(t.get(3).startsWith("10-first post-thaw ") && t.get(3).contains(" no "), t::toString);
            // Not even the new repository was made.
            try (var l = Files.list(repo)) {
                assertEquals(0, l.count(), "the aborted backup wrote to the repository");
            }
            Evidence.fault("pre-freeze hook failure");
        }
    }

    @Test
    void withIgnoreTheBackupIsStoredAndAFailedPostThawIsExitStatus9() throws Exception {
        try (LoopDevice src = LoopDevice.create(DEVICE)) {
            LiveFs.write(src.file(), (int) (4L << 20), 4);
            tracer("10-flaky", "pre-freeze post-thaw");
            Blksnap.Result r = create(src.device(), "--hooks-failure", "ignore");
            Evidence.add(Evidence.Tally.SNAPSHOTS_TAKEN, 1);
            assertEquals(9, r.status(), r.err());
            assertTrue(r.err().lines().anyMatch(l -> l.matches("blksnap backup create: hook 10-flaky pre-freeze: "
                    + "exit status 3 after [0-9.]+ s; going on without it \\(hooks failure policy: ignore\\)")),
                    r.err());
            assertTrue(r.err().lines().toList().getLast().matches("blksnap backup create: a post-thaw hook failed "
                    + "\\(see above\\): backup \\S+ was stored, but the application it holds may still be held"),
                    r.err());
            JsonNode list = Blksnap.run("backup", "list", "--repo", repo.toString(), "--json").ok().json();
            assertEquals(1, list.get("backups").size());
            Blksnap.run("backup", "verify", "--repo", repo.toString(), "--read-data").ok();
        }
    }

    @Test
    void aMissingHooksDirectoryFailsBeforeAnythingIsMade() throws Exception {
        try (LoopDevice src = LoopDevice.create(DEVICE)) {
            Path missing = hooks.resolve("typo");
            Blksnap.Result r = Blksnap.run("backup", "create", "--device", src.path(), "--repo",
                    repo.resolve("new").toString(), "--encryption", "none", "--hooks-dir", missing.toString());
            assertEquals(2, r.status(), r.err());
            assertEquals("blksnap backup create: hooks directory " + missing + ": no such directory\n", r.err());
            assertFalse(Files.exists(repo.resolve("new")));
        }
    }
}
