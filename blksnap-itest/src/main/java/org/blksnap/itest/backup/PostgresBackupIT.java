package org.blksnap.itest.backup;

import static org.blksnap.itest.support.Logs.readQuietly;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.blksnap.itest.support.LoopDevice;
import org.blksnap.itest.support.Shell;
import org.blksnap.itest.support.Snapshots;
import org.blksnap.itest.verify.Evidence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Application consistency with a real database: a PostgreSQL 15 cluster
 * (Debian's, from the shared root) on an ext4, under pgbench's write load,
 * is backed up live with the shipped 50-postgresql hook, restored to a new
 * disk, and started there: it recovers, pg_amcheck finds nothing, pgbench's
 * balances agree across its four tables (each transaction changes all four
 * or none), and every transaction committed before the pre-freeze hook ran
 * is there.
 */
class PostgresBackupIT {
    private static final long DEVICE = 256L << 20;
    private static final Path BIN = Path.of("/usr/lib/postgresql/15/bin");
    private static final int PORT = 5433;
    private static final int RESTORED_PORT = 5434;

    private final List<Path> dataDirs = new java.util.ArrayList<>();
    private final List<Path> cleanup = new java.util.ArrayList<>();

    @AfterEach
    void noSnapshotLeft() throws IOException {
        assertEquals(List.of(), Snapshots.list(), "a backup left a snapshot behind");
    }

    /** Before the loop devices go: the servers stopped, the filesystems unmounted, the directories removed. */
    private void teardown() throws IOException {
        for (Path d : dataDirs) {
            Shell.run("runuser", "-u", "postgres", "--", BIN.resolve("pg_ctl").toString(), "stop", "-m",
                    "immediate", "-D", d.toString());
        }
        for (Path p : cleanup.reversed()) {
            Shell.run("umount", p.toString());
            Shell.run("rm", "-rf", p.toString());
        }
    }

    private static String pg(String tool) {
        return BIN.resolve(tool).toString();
    }

    private static String asPostgres(String... command) throws IOException {
        // "--": without it runuser takes the command's own options (initdb -D) for its.
        String[] all = new String[command.length + 4];
        all[0] = "runuser";
        all[1] = "-u";
        all[2] = "postgres";
        all[3] = "--";
        System.arraycopy(command, 0, all, 4, command.length);
        return Shell.sh(all);
    }

    private static String sql(Path socket, int port, String query) throws IOException {
        return Shell.sh(pg("psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", socket.toString(), "-p",
                Integer.toString(port), "-U", "postgres", "-d", "bench", "-c", query);
    }

    /** A directory the postgres user owns. */
    private Path postgresDir(String prefix) throws IOException {
        Path d = Files.createTempDirectory(prefix);
        Shell.sh("chown", "postgres:postgres", d.toString());
        Shell.sh("chmod", "755", d.toString());
        return d;
    }

    private Path mount(Path device, String prefix) throws IOException {
        Path mnt = Files.createTempDirectory(prefix);
        Shell.sh("mount", device.toString(), mnt.toString());
        cleanup.add(mnt);
        return mnt;
    }

    private void start(Path data, Path socket, int port, Path log) throws IOException {
        dataDirs.add(data);
        Shell.Result r = Shell.run(Duration.ofMinutes(10), "runuser", "-u", "postgres", "--", pg("pg_ctl"), "start",
                "-w", "-t", "600", "-D", data.toString(), "-l", log.toString(), "-o",
                "-k " + socket + " -p " + port + " -c listen_addresses=''");
        assertEquals(0, r.status(), () -> r.output() + "\n" + readQuietly(log));
    }

    @Test
    void aLiveClusterUnderLoadIsRestoredAndPassesItsChecks() throws Exception {
        try (LoopDevice src = LoopDevice.create(DEVICE); LoopDevice target = LoopDevice.create(DEVICE)) {
            try {
                run(src, target);
            } finally {
                teardown();
            }
        }
    }

    private void run(LoopDevice src, LoopDevice target) throws Exception {
        Shell.sh("mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", src.path());
        Path mnt = mount(src.device(), "pg-src");
        Shell.sh("chown", "postgres:postgres", mnt.toString());
        Path data = mnt.resolve("data");
        Path socket = postgresDir("pg-sock");
        Path logs = postgresDir("pg-logs");
        cleanup.add(0, socket);
        cleanup.add(0, logs);
        asPostgres(pg("initdb"), "--no-instructions", "-D", data.toString(), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                "--locale=C");
        start(data, socket, PORT, logs.resolve("src.log"));
        Shell.sh(pg("createdb"), "-h", socket.toString(), "-p", Integer.toString(PORT), "-U", "postgres",
                "bench");
        Shell.sh(pg("pgbench"), "-q", "-i", "-s", "1", "-h", socket.toString(), "-p", Integer.toString(PORT),
                "-U", "postgres", "bench");

        Path hooks = Files.createTempDirectory("pg-hooks");
        cleanup.add(0, hooks);
        Path committed = logs.resolve("committed-at-pre-freeze");
        // The shipped hook, with the settings an administrator puts in the unit's environment.
        Hooks.script(hooks, "50-postgresql", "BLKSNAP_PG_HOST=" + socket + " BLKSNAP_PG_PORT=" + PORT
                + " exec " + Hooks.example("50-postgresql") + " \"$@\"\n");
        // After the checkpoint: what is committed by now must be in the backup.
        Hooks.script(hooks, "60-count", "[ \"$1\" = pre-freeze ] || exit 0\n" + pg("psql")
                + " -X -At -h " + socket + " -p " + PORT + " -U postgres -d bench -c "
                + "'SELECT count(*) FROM pgbench_history' > " + committed + "\n");

        Path load = logs.resolve("pgbench.out");
        Process pgbench = new ProcessBuilder(pg("pgbench"), "-n", "-c", "2", "-j", "2", "-T", "900", "-h",
                socket.toString(), "-p", Integer.toString(PORT), "-U", "postgres", "bench")
                .redirectErrorStream(true).redirectOutput(load.toFile()).start();
        Path repo = Files.createTempDirectory("pg-repo");
        cleanup.add(0, repo);
        String backup;
        long atPreFreeze;
        try {
            awaitHistory(socket, 50, pgbench, load);
            Blksnap.Result r = Blksnap.run("backup", "create", "--device", src.path(), "--repo", repo.toString(),
                    "--encryption", "none", "--storage", "/tmp", "--limit", "128M", "--hooks-dir",
                    hooks.toString(), "--json").ok();
            Evidence.add(Evidence.Tally.SNAPSHOTS_TAKEN, 1);
            backup = r.json().get("backup").asText();
            assertTrue(r.err().lines().anyMatch(l -> l.matches(".*hook 50-postgresql pre-freeze: done after .*")),
                    r.err());
            atPreFreeze = Long.parseLong(Files.readString(committed).strip());
            // The load went on across the take.
            long after = Long.parseLong(sql(socket, PORT, "SELECT count(*) FROM pgbench_history"));
            assertTrue(after > atPreFreeze, "pgbench wrote during the backup: " + atPreFreeze + " -> " + after);
            assertTrue(pgbench.isAlive(), () -> "pgbench ended: " + readQuietly(load));
        } finally {
            pgbench.destroy();
            pgbench.waitFor(60, TimeUnit.SECONDS);
        }

        Blksnap.run("backup", "restore", backup, "--repo", repo.toString(), "--to", target.path(), "--verify")
                .ok();
        Path restored = mount(target.device(), "pg-restored");
        Path restoredData = restored.resolve("data");
        // The image is of a running server: its pid file names a process of the source's.
        Files.deleteIfExists(restoredData.resolve("postmaster.pid"));
        Path socket2 = postgresDir("pg-sock2");
        cleanup.add(0, socket2);
        Path log2 = logs.resolve("restored.log");
        start(restoredData, socket2, RESTORED_PORT, log2);
        String startLog = readQuietly(log2);
        assertTrue(startLog.contains("database system was interrupted") || startLog.contains("was not properly "
                + "shut down"), "the restored cluster recovered from a live image: " + startLog);

        Shell.Result check = Shell.run(Duration.ofMinutes(10), pg("pg_amcheck"), "-h", socket2.toString(), "-p",
                Integer.toString(RESTORED_PORT), "-U", "postgres", "--all", "--install-missing",
                "--heapallindexed", "--progress");
        assertEquals(0, check.status(), "pg_amcheck: " + check.output());

        String[] sums = sql(socket2, RESTORED_PORT, "SELECT (SELECT sum(abalance) FROM pgbench_accounts) || ' ' "
                + "|| (SELECT sum(bbalance) FROM pgbench_branches) || ' ' || (SELECT sum(tbalance) FROM "
                + "pgbench_tellers) || ' ' || (SELECT coalesce(sum(delta), 0) FROM pgbench_history)").split(" ");
        assertEquals(4, sums.length, String.join(" ", sums));
        assertEquals(List.of(sums[3], sums[3], sums[3], sums[3]), List.of(sums),
                "accounts, branches, tellers and history agree");
        long restoredHistory = Long.parseLong(sql(socket2, RESTORED_PORT, "SELECT count(*) FROM pgbench_history"));
        assertTrue(restoredHistory >= atPreFreeze, "every transaction committed before pre-freeze is there: "
                + restoredHistory + " < " + atPreFreeze);
        Evidence.add(Evidence.Tally.FILES_VERIFIED, 1);
    }

    /** Waits, bounded, until pgbench has committed {@code rows} transactions. */
    private static void awaitHistory(Path socket, long rows, Process pgbench, Path load) throws IOException {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (Long.parseLong(sql(socket, PORT, "SELECT count(*) FROM pgbench_history")) < rows) {
            assertTrue(pgbench.isAlive(), () -> "pgbench ended: " + readQuietly(load));
            assertTrue(System.nanoTime() < deadline, "pgbench committed fewer than " + rows + " in 5 minutes");
        }
    }
}
