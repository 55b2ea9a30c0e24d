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
 * Application consistency with MariaDB: a MariaDB 10.11 server (Debian's,
 * from the shared root, never started on the host: scripts/setup-host masks
 * its service) on an ext4, under a write load, is backed up live with the
 * shipped 50-mariadb hook (FLUSH TABLES WITH READ LOCK held across the
 * take), restored to a new disk and started there: mariadb-check finds
 * nothing, and the data is exactly what was committed when the pre-freeze
 * hook held the lock: the InnoDB ledger and its running total, updated in
 * one transaction, agree with each other and with the count read under the
 * lock, and so does the MyISAM table (no crash recovery of its own, which
 * is why the hook flushes and locks the tables rather than rely on InnoDB's).
 */
class MariaDbBackupIT {
    private static final long DEVICE = 256L << 20;

    private final List<Process> servers = new java.util.ArrayList<>();
    private final List<Path> sockets = new java.util.ArrayList<>();
    private final List<Path> cleanup = new java.util.ArrayList<>();

    @AfterEach
    void noSnapshotLeft() throws IOException {
        assertEquals(List.of(), Snapshots.list(), "a backup left a snapshot behind");
    }

    /** Before the loop devices go: the servers stopped, the filesystems unmounted, the directories removed. */
    private void teardown() throws IOException, InterruptedException {
        for (int i = 0; i < servers.size(); i++) {
            Shell.run(Duration.ofMinutes(2), "mariadb-admin", "--no-defaults", "--socket=" + sockets.get(i),
                    "-u", "root", "shutdown");
            Process p = servers.get(i);
            if (!p.waitFor(2, TimeUnit.MINUTES)) {
                p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
        for (Path p : cleanup.reversed()) {
            Shell.run("umount", p.toString());
            Shell.run("rm", "-rf", p.toString());
        }
    }

    private static String[] client(Path socket, String... rest) {
        String[] head = {"mariadb", "--no-defaults", "--socket=" + socket, "-u", "root", "--batch",
            "--skip-column-names"};
        String[] all = java.util.Arrays.copyOf(head, head.length + rest.length);
        System.arraycopy(rest, 0, all, head.length, rest.length);
        return all;
    }

    private static String sql(Path socket, String query) throws IOException {
        return Shell.sh(client(socket, "-e", query));
    }

    private Path mount(Path device, String prefix) throws IOException {
        Path mnt = Files.createTempDirectory(prefix);
        Shell.sh("mount", device.toString(), mnt.toString());
        cleanup.add(mnt);
        return mnt;
    }

    /** A directory the mysql user owns. */
    private Path mysqlDir(String prefix) throws IOException {
        Path d = Files.createTempDirectory(prefix);
        Shell.sh("chown", "mysql:mysql", d.toString());
        Shell.sh("chmod", "755", d.toString());
        cleanup.add(0, d);
        return d;
    }

    /** Starts a server by hand on {@code data}, with nothing of /etc/mysql, and waits until it answers. */
    private void start(Path data, Path socket, Path log) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("/usr/sbin/mariadbd", "--no-defaults", "--user=mysql",
                "--datadir=" + data, "--socket=" + socket, "--skip-networking", "--pid-file=" + socket + ".pid",
                "--log-error=" + log, "--innodb-buffer-pool-size=32M",
                "--innodb-flush-log-at-trx-commit=1", "--performance-schema=OFF", "--skip-name-resolve")
                .redirectErrorStream(true).redirectOutput(log.resolveSibling(log.getFileName() + ".out").toFile())
                .start();
        servers.add(p);
        sockets.add(socket);
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (!Shell.run(Duration.ofMinutes(1), "mariadb-admin", "--no-defaults", "--socket=" + socket, "-u",
                "root", "ping").ok()) {
            assertTrue(p.isAlive(), () -> "mariadbd ended: " + readQuietly(log));
            assertTrue(System.nanoTime() < deadline, () -> "mariadbd did not answer in 5 minutes: "
                    + readQuietly(log));
            Thread.sleep(200);
        }
    }

    @Test
    void aLiveServerUnderLoadIsRestoredAndPassesItsChecks() throws Exception {
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
        Path mnt = mount(src.device(), "mdb-src");
        Shell.sh("chown", "mysql:mysql", mnt.toString());
        Path data = mnt.resolve("data");
        Path run = mysqlDir("mdb-run");
        Path logs = mysqlDir("mdb-logs");
        Shell.Result init = Shell.run(Duration.ofMinutes(10), "mariadb-install-db", "--no-defaults", "--user=mysql",
                "--datadir=" + data, "--skip-test-db", "--auth-root-authentication-method=socket");
        assertEquals(0, init.status(), init.output());
        Path socket = run.resolve("src.sock");
        start(data, socket, logs.resolve("src.log"));
        sql(socket, "CREATE DATABASE bench");
        sql(socket, "CREATE TABLE bench.ledger (id BIGINT AUTO_INCREMENT PRIMARY KEY, amount INT NOT NULL) "
                + "ENGINE=InnoDB");
        sql(socket, "CREATE TABLE bench.totals (k INT PRIMARY KEY, n BIGINT NOT NULL, s BIGINT NOT NULL) "
                + "ENGINE=InnoDB");
        sql(socket, "INSERT INTO bench.totals VALUES (1, 0, 0)");
        sql(socket, "CREATE TABLE bench.notes (id BIGINT AUTO_INCREMENT PRIMARY KEY, v BIGINT NOT NULL, "
                + "pad CHAR(200) NOT NULL) ENGINE=MyISAM");
        // The load: one session that commits forever, each transaction a ledger row and the total it
        // moves, each followed by a MyISAM row; the statements wait while the hook holds its lock.
        // The client splits statements at ";": the procedure's body goes through with another delimiter.
        Shell.sh(client(socket, "--delimiter=//", "-e", "CREATE PROCEDURE bench.load() BEGIN "
                + "DECLARE i BIGINT DEFAULT 0; LOOP START TRANSACTION; "
                + "INSERT INTO bench.ledger (amount) VALUES (i % 7); "
                + "UPDATE bench.totals SET n = n + 1, s = s + i % 7 WHERE k = 1; COMMIT; "
                + "INSERT INTO bench.notes (v, pad) VALUES (i, REPEAT('x', 200)); SET i = i + 1; END LOOP; END"));

        Path hooks = Files.createTempDirectory("mdb-hooks");
        cleanup.add(0, hooks);
        Path atLock = logs.resolve("at-pre-freeze");
        String args = "--no-defaults --socket=" + socket + " -u root";
        // The shipped hook, with the settings an administrator puts in the unit's environment.
        Hooks.script(hooks, "50-mariadb", "BLKSNAP_MARIADB_ARGS='" + args + "' exec "
                + Hooks.example("50-mariadb") + " \"$@\"\n");
        // Under the hook's lock: nothing commits until post-thaw, so this is what the backup holds.
        Hooks.script(hooks, "60-count", "[ \"$1\" = pre-freeze ] || exit 0\nmariadb " + args
                + " --batch --skip-column-names -e 'SELECT n, s, (SELECT count(*) FROM bench.ledger), "
                + "(SELECT count(*) FROM bench.notes) FROM bench.totals' > " + atLock + "\n");

        Path loadOut = logs.resolve("load.out");
        Process load = new ProcessBuilder(client(socket, "-e", "CALL bench.load()")).redirectErrorStream(true)
                .redirectOutput(loadOut.toFile()).start();
        Path repo = Files.createTempDirectory("mdb-repo");
        cleanup.add(0, repo);
        String backup;
        String[] locked;
        try {
            awaitRows(socket, 200, load, loadOut);
            Blksnap.Result r = Blksnap.run("backup", "create", "--device", src.path(), "--repo", repo.toString(),
                    "--encryption", "none", "--storage", "/tmp", "--limit", "128M", "--hooks-dir",
                    hooks.toString(), "--json").ok();
            Evidence.add(Evidence.Tally.SNAPSHOTS_TAKEN, 1);
            backup = r.json().get("backup").asText();
            assertTrue(r.err().lines().anyMatch(l -> l.matches(".*hook 50-mariadb pre-freeze: done after .*")),
                    r.err());
            assertTrue(r.err().lines().anyMatch(l -> l.matches(".*hook 50-mariadb post-thaw: done after .*")),
                    r.err());
            locked = Files.readString(atLock).strip().split("\\s+");
            assertEquals(4, locked.length, String.join(" ", locked));
            assertEquals(locked[0], locked[2], "under the lock, the total counts the ledger's rows");
            // The lock was released and the load went on.
            long after = Long.parseLong(sql(socket, "SELECT n FROM bench.totals"));
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (after <= Long.parseLong(locked[0]) && System.nanoTime() < deadline) {
                Thread.sleep(100);
                after = Long.parseLong(sql(socket, "SELECT n FROM bench.totals"));
            }
            assertTrue(after > Long.parseLong(locked[0]), "the load committed after post-thaw: " + locked[0]
                    + " -> " + after);
            assertTrue(load.isAlive(), () -> "the load ended: " + readQuietly(loadOut));
        } finally {
            load.destroy();
            load.waitFor(60, TimeUnit.SECONDS);
        }

        Blksnap.run("backup", "restore", backup, "--repo", repo.toString(), "--to", target.path(), "--verify")
                .ok();
        Path restored = mount(target.device(), "mdb-restored");
        Path restoredData = restored.resolve("data");
        Path socket2 = run.resolve("restored.sock");
        Path log2 = logs.resolve("restored.log");
        start(restoredData, socket2, log2);

        Shell.Result check = Shell.run(Duration.ofMinutes(10), "mariadb-check", "--no-defaults",
                "--socket=" + socket2, "-u", "root", "--all-databases", "--extended");
        assertEquals(0, check.status(), "mariadb-check: " + check.output());
        // A MyISAM table copied while open says so ("warning : 1 client is using or hasn't closed the
        // table properly"): the hook's lock is what keeps that out.
        assertTrue(check.output().lines().noneMatch(l -> l.matches("(?i)^\\s*(error|warning)\\s*:.*")),
                "mariadb-check: " + check.output());
        assertTrue(check.output().lines().anyMatch(l -> l.matches("bench\\.notes\\s+OK")),
                "mariadb-check checked the MyISAM table: " + check.output());

        String[] got = sql(socket2, "SELECT n, s, (SELECT count(*) FROM bench.ledger), (SELECT coalesce(sum(amount), "
                + "0) FROM bench.ledger), (SELECT count(*) FROM bench.notes) FROM bench.totals").split("\\s+");
        assertEquals(5, got.length, String.join(" ", got));
        assertEquals(locked[0], got[0], "the transactions committed under the lock, no more, no fewer");
        assertEquals(locked[0], got[2], "the ledger's rows agree with its total");
        assertEquals(got[1], got[3], "the ledger's sum agrees with its total");
        assertEquals(locked[3], got[4], "the MyISAM table holds what it held under the lock");
        Evidence.add(Evidence.Tally.FILES_VERIFIED, 1);
    }

    /** Waits, bounded, until the load has committed {@code rows} transactions. */
    private static void awaitRows(Path socket, long rows, Process load, Path out) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (Long.parseLong(sql(socket, "SELECT n FROM bench.totals")) < rows) {
            assertTrue(load.isAlive(), () -> "the load ended: " + readQuietly(out));
            assertTrue(System.nanoTime() < deadline, "the load committed fewer than " + rows + " in 5 minutes");
            Thread.sleep(50);
        }
    }
}
