package org.blksnap.cli.commands;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.time.Instant;
import java.util.Optional;

import org.junit.jupiter.api.Test;

/**
 * How 'backup umount' finds the process that served a mount from the
 * mount's record: by pid and start time, so a process that got the pid of a
 * killed server is never signalled.
 */
class BackupMountsTest {
    private static BackupMounts.Record servedBy(long pid, String started) {
        return new BackupMounts.Record("/mnt/r", "/dev/nbd0", 77, pid, started, "20261202-050000-abcd", "/dev/vdb",
                "/backup", "ext4");
    }

    @Test
    void theServerIsFoundByPidAndStartTime() {
        ProcessHandle self = ProcessHandle.current();
        String started = BackupMounts.started(self);
        assertNotNull(started, "Linux gives every process a start time");
        assertEquals(Optional.of(self), BackupMounts.server(servedBy(self.pid(), started)));
    }

    @Test
    void aProcessThatGotTheDeadServersPidIsNotTheServer() {
        ProcessHandle self = ProcessHandle.current();
        String before = Instant.parse(BackupMounts.started(self)).minusSeconds(5).toString();
        assertEquals(Optional.empty(), BackupMounts.server(servedBy(self.pid(), before)));
        assertEquals(Optional.empty(), BackupMounts.server(servedBy(self.pid(), null)), "no start time recorded");
    }

    @Test
    void aServerThatIsGoneIsNotFound() throws Exception {
        // cat runs until its input is closed: the start time is read while it surely runs.
        Process p = new ProcessBuilder("cat").start();
        String started = BackupMounts.started(p.toHandle());
        assertNotNull(started, "read while it runs");
        p.getOutputStream().close();
        p.waitFor();
        assertFalse(p.toHandle().isAlive());
        assertEquals(Optional.empty(), BackupMounts.server(servedBy(p.pid(), started)));
    }
}
