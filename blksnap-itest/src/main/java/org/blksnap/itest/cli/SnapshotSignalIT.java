package org.blksnap.itest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.blksnap.itest.support.Snapshots;
import org.blksnap.itest.support.LoopDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** 'blksnap snapshot -- COMMAND' destroys its snapshot when the command is interrupted. */
class SnapshotSignalIT {
    private static final long MIB = 1L << 20;

    @AfterEach
    void destroyLeftovers() throws IOException {
        Snapshots.destroyAll();
    }

    private static void interrupted(String signal, int expectedStatus, String sleepSeconds) throws Exception {
        try (LoopDevice a = LoopDevice.create(16 * MIB)) {
            ProcessBuilder pb = new ProcessBuilder(Shell.LAUNCHER.toString(), "snapshot", "-d", a.path(), "-s",
                    "/tmp", "-l", "16M", "--", "sleep", sleepSeconds).redirectErrorStream(true);
            // No class-data-sharing archive to write at exit: under TCG that
            // dump alone takes about a minute of the wait for the exit.
            pb.environment().put("BLKSNAP_CDS", "0");
            Process p = pb.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
            while (Snapshots.list().isEmpty() || !childRunning(sleepSeconds)) {
                assertTrue(p.isAlive(), () -> "blksnap ended early: " + output(p));
                assertTrue(System.nanoTime() < deadline, "no snapshot appeared");
                Thread.sleep(200);
            }
            Shell.sh("kill", "-" + signal, String.valueOf(p.pid()));
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "blksnap did not end after SIG" + signal);
            String out = output(p);
            assertEquals(expectedStatus, p.exitValue(), out);
            assertTrue(out.contains(" destroyed"), out);
            assertTrue(Snapshots.list().isEmpty(), "snapshot left behind after SIG" + signal);
            assertFalse(childRunning(sleepSeconds), "COMMAND left running after SIG" + signal);
        }
    }

    private static boolean childRunning(String sleepSeconds) throws IOException {
        return Shell.run(List.of("pgrep", "-f", "^sleep " + sleepSeconds + "$")).status() == 0;
    }

    private static String output(Process p) {
        try {
            return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Test
    void sigintDestroysTheSnapshot() throws Exception {
        // Only blksnap gets the signal (as from kill, not a terminal): it must
        // stop COMMAND itself, then destroy.
        interrupted("INT", 130, "713");
    }

    @Test
    void sigtermDestroysTheSnapshot() throws Exception {
        interrupted("TERM", 143, "719");
    }
}
