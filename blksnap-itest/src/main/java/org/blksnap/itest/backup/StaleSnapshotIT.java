package org.blksnap.itest.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.blksnap.api.SnapshotId;
import org.blksnap.api.SnapshotOwners;
import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Shell;
import org.blksnap.itest.support.Snapshots;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A blksnap killed with SIGKILL cannot destroy its snapshot. The next
 * 'backup create', or 'snapshot cleanup', destroys it; never a snapshot
 * whose owner still runs, nor one nobody recorded.
 */
class StaleSnapshotIT {
    private static final long MIB = 1L << 20;
    private static final long DEVICE = 64 * MIB;

    private Path repo;

    @BeforeEach
    void repo() throws IOException {
        repo = Files.createTempDirectory("stale-repo");
    }

    @AfterEach
    void clean() throws IOException {
        Shell.run("rm", "-rf", repo.toString());
        List<SnapshotId> left = Snapshots.list();
        Snapshots.destroyAll();
        assertEquals(List.of(), left, "the test left a snapshot behind");
    }

    /** Starts the installed command and waits until it says its snapshot is taken. */
    static Process startUntilTaken(String... args) throws IOException {
        Path launcher = Path.of(System.getProperty("user.dir"), "bin", "blksnap");
        String[] cmd = new String[args.length + 1];
        cmd[0] = launcher.toString();
        System.arraycopy(args, 0, cmd, 1, args.length);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        // No class-data-sharing archive to write at exit: that alone takes a minute under TCG.
        pb.environment().put("BLKSNAP_CDS", "0");
        Process p = pb.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()));
        StringBuilder seen = new StringBuilder();
        for (String line; (line = out.readLine()) != null; ) {
            seen.append(line).append('\n');
            if (line.contains("taken")) {
                return p;
            }
        }
        throw new AssertionError("no snapshot taken: " + seen);
    }

    /** SIGKILL to the launcher and everything it started: nothing runs a cleanup. */
    static void kill(Process p) throws InterruptedException {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "SIGKILL did not end it");
        for (ProcessHandle h : p.descendants().toList()) {
            h.onExit().join();
        }
    }

    @Test
    void theNextCreateDestroysTheSnapshotOfAKilledCreate() throws Exception {
        try (LoopDevice src = LoopDevice.create(DEVICE)) {
            LiveFs.write(src.file(), (int) (48 * MIB), 7);
            Process p = startUntilTaken("backup", "create", "--device", src.path(), "--repo", repo.toString(),
                    "--storage", "/tmp", "--limit", "64M", "--threads", "1", "--encryption", "none");
            List<SnapshotId> during = Snapshots.list();
            assertEquals(1, during.size(), "the backup's snapshot exists while it runs");
            assertTrue(SnapshotOwners.system().owner(during.getFirst()).isPresent(), "its owner is recorded");
            kill(p);
            assertEquals(during, Snapshots.list(), "SIGKILL leaves the snapshot alive");

            Blksnap.Result next = Blksnap.run("backup", "create", "--device", src.path(), "--repo", repo.toString(),
                    "--storage", "/tmp", "--limit", "64M", "--json", "--encryption", "none");
            next.ok();
            assertTrue(next.err().contains("destroyed snapshot " + during.getFirst()
                    + ": the blksnap that took it is gone"), next.err());
            assertEquals(List.of(), Snapshots.list(), "no snapshot left after the next create");
            assertTrue(SnapshotOwners.system().owner(during.getFirst()).isEmpty(), "its record is gone");
            JsonNode list = Blksnap.run("backup", "list", "--repo", repo.toString(), "--json").ok().json();
            assertEquals(1, list.get("backups").size(), "the killed backup is not visible, the next one is");
        }
    }

    @Test
    void cleanupDestroysOnlySnapshotsWhoseOwnerIsGone() throws Exception {
        try (LoopDevice a = LoopDevice.create(DEVICE); LoopDevice b = LoopDevice.create(DEVICE);
                LoopDevice c = LoopDevice.create(DEVICE)) {
            Process alive = startUntilTaken("snapshot", "--device", a.path(), "--storage", "/tmp", "--limit", "64M",
                    "--", "sleep", "600");
            Process killed = startUntilTaken("snapshot", "--device", b.path(), "--storage", "/tmp", "--limit", "64M",
                    "--", "sleep", "600");
            List<SnapshotId> owned = Snapshots.list();
            assertEquals(2, owned.size(), owned::toString);
            // A snapshot nobody recorded: made with the low-level command.
            String unowned = Blksnap.run("snapshot_create", "--device", c.path(), "--file", "/tmp", "--limit", "64M")
                    .ok().out().strip().replaceFirst("^id=", "");
            try {
                JsonNode first = Blksnap.run("snapshot", "cleanup", "--json").ok().json();
                assertEquals(0, first.get("destroyed").size(), first.toString());
                assertEquals(2, first.get("owned").size(), first.toString());
                assertEquals(List.of(unowned), List.of(first.get("unowned").get(0).asText()), first.toString());

                java.util.Set<Long> killedPids = new java.util.HashSet<>();
                killedPids.add(killed.pid());
                killed.descendants().forEach(h -> killedPids.add(h.pid()));
                SnapshotId killedId = null;
                for (SnapshotId id : owned) {
                    if (killedPids.contains(SnapshotOwners.system().owner(id).orElseThrow().pid())) {
                        killedId = id;
                    }
                }
                assertTrue(killedId != null, "the killed blksnap's snapshot is recorded as its own");
                kill(killed);
                JsonNode second = Blksnap.run("snapshot", "cleanup", "--json").ok().json();
                assertEquals(List.of(killedId.toString()), List.of(second.get("destroyed").get(0).asText()),
                        second.toString());
                assertEquals(1, second.get("destroyed").size(), second.toString());
                assertEquals(1, second.get("owned").size(), "the live owner's snapshot stays: " + second);
                assertEquals(3 - 1, Snapshots.list().size());
            } finally {
                Blksnap.run("snapshot_destroy", "--id", unowned);
                alive.destroy();
                assertTrue(alive.waitFor(120, TimeUnit.SECONDS), "blksnap snapshot did not stop on SIGTERM");
            }
        }
    }
}
