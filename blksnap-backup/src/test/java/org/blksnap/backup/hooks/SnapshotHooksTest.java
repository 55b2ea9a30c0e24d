package org.blksnap.backup.hooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import org.blksnap.api.SnapshotId;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real shell hooks in a temporary directory, run around a pretend take. */
class SnapshotHooksTest {
    private static final SnapshotId ID = SnapshotId.parse("0d0b1f9e-6c63-4bd3-9a57-0b9f3c1e5a77");
    private static final List<Path> DEVICES = List.of(Path.of("/dev/vdb"), Path.of("/dev/vdc"));

    @TempDir
    Path dir;
    Path hooksDir;
    Path trace;
    final List<String> log = new CopyOnWriteArrayList<>();

    @BeforeEach
    void dirs() throws IOException {
        hooksDir = Files.createDirectory(dir.resolve("hooks.d"));
        trace = dir.resolve("trace");
    }

    /** A hook that appends "NAME PHASE" and its status line to the trace, then exits with {@code status}. */
    private Path hook(String name, int status) throws IOException {
        return script(name, "echo \"" + name + " $1 $BLKSNAP_HOOK_PHASE\" >> '" + trace + "'\n"
                + "echo \"said by " + name + "\"\n"
                + "exit " + status + "\n");
    }

    private Path script(String name, String body) throws IOException {
        Path p = hooksDir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    private SnapshotHooks hooks(HookFailurePolicy policy, Duration timeout) throws HookException {
        HookRunner runner = new HookRunner(new HookSettings(hooksDir, timeout, policy, true), log::add);
        return new SnapshotHooks(runner, DEVICES, Map.of("BLKSNAP_REPO", "/backup/x"), log::add);
    }

    private List<String> trace() throws IOException {
        return Files.exists(trace) ? Files.readAllLines(trace) : List.of();
    }

    @Test
    void preFreezeRunsInNameOrderAndPostThawInReverse() throws IOException {
        hook("20-db", 0);
        hook("10-sync", 0);
        hook("30-app", 0);
        SnapshotHooks h = hooks(HookFailurePolicy.ABORT, Duration.ofSeconds(30));
        h.beforeTake(ID);
        h.afterTake(ID, true);
        assertEquals(List.of("10-sync pre-freeze pre-freeze", "20-db pre-freeze pre-freeze",
                "30-app pre-freeze pre-freeze", "30-app post-thaw post-thaw", "20-db post-thaw post-thaw",
                "10-sync post-thaw post-thaw"), trace());
        assertFalse(h.postThawFailed());
        assertEquals(6, h.outcomes().size());
        assertTrue(log.contains("hook 20-db pre-freeze: said by 20-db"), log::toString);
    }

    @Test
    void leftoversAndNonExecutablesAreNoHooks() throws IOException {
        hook("10-sync", 0);
        hook("10-sync~", 0);
        hook("20-db.dpkg-old", 0);
        hook(".hidden", 0);
        hook("README.sample", 0);
        Path plain = hook("30-notes", 0);
        Files.setPosixFilePermissions(plain, PosixFilePermissions.fromString("rw-r--r--"));
        SnapshotHooks h = hooks(HookFailurePolicy.ABORT, Duration.ofSeconds(30));
        assertEquals(List.of(hooksDir.resolve("10-sync")), h.hooks());
        assertTrue(log.contains("hook 30-notes: not executable, skipped (chmod +x to run it)"), log::toString);
    }

    @Test
    void theEnvironmentNamesDevicesSnapshotAndOutcome() throws IOException {
        Path env = dir.resolve("env");
        script("10-env", "echo \"$1|$BLKSNAP_DEVICES|$BLKSNAP_SNAPSHOT_ID|$BLKSNAP_REPO|${BLKSNAP_TAKEN-unset}"
                + "|$BLKSNAP_HOOK_TIMEOUT\" >> '" + env + "'\n");
        SnapshotHooks h = hooks(HookFailurePolicy.ABORT, Duration.ofSeconds(30));
        h.beforeTake(ID);
        h.afterTake(ID, false);
        assertEquals(List.of("pre-freeze|/dev/vdb /dev/vdc|" + ID + "|/backup/x|unset|30",
                "post-thaw|/dev/vdb /dev/vdc|" + ID + "|/backup/x|no|30"), Files.readAllLines(env));
    }

    @Test
    void aFailingPreFreezeAbortsAndOnlyTheHooksThatRanAreThawed() throws IOException {
        hook("10-sync", 0);
        hook("20-db", 3);
        hook("30-app", 0);
        SnapshotHooks h = hooks(HookFailurePolicy.ABORT, Duration.ofSeconds(30));
        HookException e = assertThrows(HookException.class, () -> h.beforeTake(ID));
        assertEquals("hook 20-db pre-freeze: exit status 3 after " + secs(h.outcomes().get(1))
                + ": nothing was backed up", e.getMessage());
        h.afterTake(ID, false);
        assertEquals(List.of("10-sync pre-freeze pre-freeze", "20-db pre-freeze pre-freeze",
                "20-db post-thaw post-thaw", "10-sync post-thaw post-thaw"), trace());
    }

    @Test
    void withIgnoreAFailingPreFreezeIsSaidAndTheRestRun() throws IOException {
        hook("10-sync", 5);
        hook("20-db", 0);
        SnapshotHooks h = hooks(HookFailurePolicy.IGNORE, Duration.ofSeconds(30));
        h.beforeTake(ID);
        h.afterTake(ID, true);
        assertEquals(4, trace().size());
        assertTrue(log.stream().anyMatch(l -> l.startsWith("hook 10-sync pre-freeze: exit status 5 after ")
                && l.endsWith("; going on without it (hooks failure policy: ignore)")), log::toString);
    }

    @Test
    void aFailingPostThawIsRecordedAndTheOthersStillRun() throws IOException {
        hook("10-sync", 0);
        script("20-db", "[ \"$1\" = pre-freeze ] || exit 4\n");
        SnapshotHooks h = hooks(HookFailurePolicy.ABORT, Duration.ofSeconds(30));
        h.beforeTake(ID);
        h.afterTake(ID, true);
        assertTrue(h.postThawFailed());
        assertEquals(List.of("10-sync pre-freeze pre-freeze", "10-sync post-thaw post-thaw"), trace());
        assertTrue(log.stream().anyMatch(l -> l.startsWith("hook 20-db post-thaw: exit status 4")
                && l.endsWith(": the application it holds may still be held")), log::toString);
    }

    @Test
    void aHookPastItsTimeoutIsKilledWithItsChildren() throws IOException, InterruptedException {
        Path pid = dir.resolve("child.pid");
        // The child writes its own pid, so the file is complete before the hook waits.
        script("10-hang", "sh -c 'echo $$ > " + pid + ".tmp && mv " + pid + ".tmp " + pid + " && exec sleep 600' &\n"
                + "wait\n");
        // Ample for a shell to start its child even on a loaded host; the
        // child's pid file says whether it did.
        SnapshotHooks h = hooks(HookFailurePolicy.ABORT, Duration.ofSeconds(5));
        HookException e = assertThrows(HookException.class, () -> h.beforeTake(ID));
        assertTrue(e.getMessage().startsWith("hook 10-hang pre-freeze: timed out, killed after "), e::getMessage);
        assertTrue(e.getMessage().endsWith(" (still running after 5 s): nothing was backed up"), e::getMessage);
        HookOutcome o = h.outcomes().getFirst();
        assertEquals(HookOutcome.Status.TIMED_OUT, o.status());
        assertTrue(o.elapsed().compareTo(Duration.ofSeconds(5)) >= 0, o::toString);
        assertTrue(Files.exists(pid), "the hook started its child");
        // Killed is dead or a zombie; waiting for that is bounded, not a sleep.
        long child = Long.parseLong(Files.readString(pid).strip());
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (running(child)) {
            assertTrue(System.nanoTime() < deadline, "the hook's child " + child + " still runs");
            Thread.onSpinWait();
        }
    }

    /** @return true if the process is still the hook's sleep, and not a zombie */
    private static boolean running(long pid) throws IOException {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            // A pid reused by another program is not the child either.
            return stat.contains("(sleep)") && stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (java.nio.file.NoSuchFileException gone) {
            return false;
        }
    }

    @Test
    void aHookOthersMayRewriteIsNotRun() throws IOException {
        Path p = hook("10-sync", 0);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxrwxrwx"));
        SnapshotHooks h = hooks(HookFailurePolicy.ABORT, Duration.ofSeconds(30));
        HookException e = assertThrows(HookException.class, () -> h.beforeTake(ID));
        assertEquals("hook 10-sync pre-freeze: not run after 0.0 s (writable by group or others: chmod go-w " + p
                + "): nothing was backed up", e.getMessage());
        assertEquals(List.of(), trace());
    }

    @Test
    void aGivenDirectoryMustExistTheDefaultNeedNot() throws IOException {
        Path missing = dir.resolve("nope");
        HookException e = assertThrows(HookException.class, () -> new HookRunner(new HookSettings(missing,
                HookSettings.DEFAULT_TIMEOUT, HookFailurePolicy.ABORT, true), log::add).hooks());
        assertEquals("hooks directory " + missing + ": no such directory", e.getMessage());
        assertEquals(List.of(), new HookRunner(new HookSettings(missing, HookSettings.DEFAULT_TIMEOUT,
                HookFailurePolicy.ABORT, false), log::add).hooks());
    }

    private static String secs(HookOutcome o) {
        return String.format(java.util.Locale.ROOT, "%.1f s", o.elapsed().toMillis() / 1000.0);
    }
}
