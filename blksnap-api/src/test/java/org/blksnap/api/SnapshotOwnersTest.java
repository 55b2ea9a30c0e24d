package org.blksnap.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ownership records and whether their owner still runs; the destroy itself is tested in the guest. */
class SnapshotOwnersTest {
    private static final SnapshotId ID = SnapshotId.parse("00112233-4455-6677-8899-aabbccddeeff");

    @TempDir
    Path dir;

    @Test
    void aClaimNamesThisProcessUntilReleased() throws IOException {
        SnapshotOwners owners = new SnapshotOwners(dir.resolve("owners"));
        assertEquals(Optional.empty(), owners.owner(ID));
        owners.claim(ID);
        SnapshotOwners.Owner me = owners.owner(ID).orElseThrow();
        assertEquals(ProcessHandle.current().pid(), me.pid());
        assertEquals(SnapshotOwners.Owner.self(), me);
        assertTrue(me.alive());
        try (var files = Files.list(dir.resolve("owners"))) {
            assertEquals(1, files.count(), "no temporary file left");
        }
        owners.release(ID);
        assertEquals(Optional.empty(), owners.owner(ID));
        owners.release(ID);
    }

    @Test
    void anOwnerThatExitedIsGone() throws Exception {
        // Alive while its start time is read: a process that exits at once may vanish mid-read.
        Process p = new ProcessBuilder("sleep", "60").start();
        long pid = p.pid();
        long start = SnapshotOwners.processStart(pid).orElseThrow();
        p.destroy();
        p.waitFor();
        SnapshotOwners.Owner self = SnapshotOwners.Owner.self();
        assertFalse(new SnapshotOwners.Owner(pid, start, self.bootId()).alive());
    }

    @Test
    void aReusedPidIsNotTheOwner() throws IOException {
        SnapshotOwners.Owner self = SnapshotOwners.Owner.self();
        assertFalse(new SnapshotOwners.Owner(self.pid(), self.startTime() + 1, self.bootId()).alive());
    }

    @Test
    void anOwnerOfAnEarlierBootIsGone() throws IOException {
        SnapshotOwners.Owner self = SnapshotOwners.Owner.self();
        assertFalse(new SnapshotOwners.Owner(self.pid(), self.startTime(), "another-boot").alive());
    }

    @Test
    void aDamagedRecordProvesNothing() throws IOException {
        SnapshotOwners owners = new SnapshotOwners(dir);
        Files.writeString(dir.resolve(ID.toString()), "pid=12x\n");
        assertEquals(Optional.empty(), owners.owner(ID));
        Files.writeString(dir.resolve(ID.toString()), "boot_id=b\n");
        assertEquals(Optional.empty(), owners.owner(ID));
    }

    @Test
    void startTimeCopesWithParenthesesInTheCommandName() throws Exception {
        Path script = dir.resolve("a (b) c");
        Files.writeString(script, "#!/bin/sh\nsleep 5\n");
        script.toFile().setExecutable(true);
        Process p = new ProcessBuilder(script.toString()).start();
        try {
            Thread.sleep(200);
            long start = SnapshotOwners.processStart(p.pid()).orElseThrow();
            assertTrue(start > 0);
            assertTrue(start >= SnapshotOwners.Owner.self().startTime());
        } finally {
            p.destroyForcibly().waitFor();
        }
    }
}
