package org.blksnap.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.blksnap.cli.job.JobFile;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Job files and 'backup run' on the host: what a job runs, and every kind
 * of bad job file getting one line and exit status 2 before anything runs.
 * The run of a real job (create, prune, check) is JobRunIT, in the guest.
 */
class JobRunCliTest {
    private static final String GOOD = """
            # nightly backup of the database disks
            devices = ["/dev/vdb", "/dev/vdc"]
            repository = "/backup/db"
            password_file = "/etc/blksnap/db.pw"
            tag = "nightly"
            schedule = "*-*-* 02:30"

            [storage]
            path = "/var/tmp"
            limit = "2G"

            [hooks]
            dir = "/etc/blksnap/hooks.d"
            timeout = "90s"
            failure = "abort"

            [retention]
            keep_last = 7
            keep_daily = 30
            keep_monthly = "unlimited"
            keep_within = "2w"

            [check]
            read_data_subset = "5%"
            """;

    @TempDir
    Path dir;
    Path jobs;

    @BeforeEach
    void jobsDir() throws IOException {
        jobs = Files.createDirectory(dir.resolve("jobs"));
    }

    private Path job(String name, String text) throws IOException {
        return Files.writeString(jobs.resolve(name + ".conf"), text);
    }

    @Test
    void aJobIsCreateThenPruneThenCheckWithItsOwnOptions() throws IOException {
        JobFile j = JobFile.find("db", jobsDirWith("db", GOOD));
        assertEquals(List.of("backup", "create", "--job", "db", "--device", "/dev/vdb", "--device", "/dev/vdc",
                "--repo", "/backup/db", "--lock-wait", "10m", "--password-file", "/etc/blksnap/db.pw", "--tag",
                "nightly", "--storage", "/var/tmp", "--limit", "2G", "--hooks-dir", "/etc/blksnap/hooks.d",
                "--hooks-timeout", "90s", "--hooks-failure", "abort"), j.createArgs());
        assertEquals(List.of("backup", "prune", "--repo", "/backup/db", "--lock-wait", "10m", "--password-file",
                "/etc/blksnap/db.pw", "--keep-last", "7", "--keep-daily", "30", "--keep-monthly", "unlimited",
                "--keep-within", "2w"), j.pruneArgs());
        assertEquals(List.of("backup", "check", "--repo", "/backup/db", "--lock-wait", "10m", "--password-file",
                "/etc/blksnap/db.pw", "--read-data-subset", "5%"), j.checkArgs());
        assertEquals("*-*-* 02:30", j.schedule());
    }

    private Path jobsDirWith(String name, String text) throws IOException {
        job(name, text);
        return jobs;
    }

    @Test
    void maxUnusedGoesToPrune() throws IOException {
        JobFile j = JobFile.find("mu", jobsDirWith("mu", "devices = [\"/dev/vdb\"]\nrepository = \"/backup/mu\"\n"
                + "[retention]\nkeep_last = 3\nmax_unused = \"500M\"\n"));
        assertEquals(List.of("backup", "prune", "--repo", "/backup/mu", "--lock-wait", "10m", "--keep-last", "3",
                "--max-unused", "500M"), j.pruneArgs());
    }

    @Test
    void withoutRetentionAndCheckAJobOnlyBacksUp() throws IOException {
        JobFile j = JobFile.find("min", jobsDirWith("min", "devices = [\"/dev/vdb\"]\nrepository = \"s3:https://"
                + "127.0.0.1:9000/b/p\"\n"));
        assertEquals(List.of(), j.pruneArgs());
        assertEquals(List.of(), j.checkArgs());
        assertEquals(JobFile.DEFAULT_SCHEDULE, j.schedule());
    }

    @Test
    void dryRunPrintsTheCommandsAndRunsNothing() throws IOException {
        job("db", GOOD);
        Run r = Run.of("backup", "run", "db", "--jobs-dir", jobs.toString(), "--dry-run");
        assertEquals(0, r.status(), r::err);
        assertEquals("job db (" + jobs.resolve("db.conf") + "), schedule: *-*-* 02:30\n"
                + "  blksnap backup create --job db --device /dev/vdb --device /dev/vdc --repo /backup/db "
                + "--lock-wait 10m --password-file /etc/blksnap/db.pw --tag nightly --storage /var/tmp --limit 2G "
                + "--hooks-dir /etc/blksnap/hooks.d --hooks-timeout 90s --hooks-failure abort\n"
                + "  blksnap backup prune --repo /backup/db --lock-wait 10m --password-file /etc/blksnap/db.pw "
                + "--keep-last 7 --keep-daily 30 --keep-monthly unlimited --keep-within 2w\n"
                + "  blksnap backup check --repo /backup/db --lock-wait 10m --password-file /etc/blksnap/db.pw "
                + "--read-data-subset 5%\n", r.out());
        assertEquals("", r.err());
    }

    @Test
    void aFailedBackupStopsTheJobBeforePruneWithItsExitStatus() throws IOException {
        Path notADevice = Files.writeString(dir.resolve("disk.img"), "x");
        Path repo = dir.resolve("repo");
        Path file = job("fails", "devices = [\"" + notADevice + "\"]\nrepository = \"" + repo + "\"\n"
                + "[retention]\nkeep_last = 1\n");
        Run r = Run.of("backup", "run", file.toString());
        assertEquals(ExitCodes.NOT_FOUND, r.status(), r::err);
        assertEquals(List.of("blksnap backup run: job fails: started (" + file + ")",
                "blksnap backup create: " + notADevice + " is not a block device",
                "blksnap backup run: job fails: create failed with exit status 5; the steps after it were not run"),
                r.err().lines().toList());
        assertTrue(Files.notExists(repo), "nothing was made");
    }

    static Stream<Arguments> badJobs() {
        String base = "devices = [\"/dev/vdb\"]\nrepository = \"/backup/x\"\n";
        return Stream.of(
                Arguments.of("", ": devices: missing: the block devices to back up, e.g. devices = [\"/dev/vdb\"]"),
                Arguments.of("devices = [\"/dev/vdb\"]\n", ": repository: missing: a directory or s3:... URL"),
                Arguments.of("devices = [\"vdb\"]\nrepository = \"/b\"\n",
                        ": devices: 'vdb': give an absolute path (a timer runs the job from /)"),
                Arguments.of("devices = [\"/dev/vdb\"]\nrepository = \"backups\"\n",
                        ": repository: 'backups': give an absolute path (a timer runs the job from /)"),
                Arguments.of(base + "devcies = 1\n", ": unknown key 'devcies' (keys: check, devices, "
                        + "encryption, hooks, key_file, lock_wait, password_command, password_file, repository, "
                        + "retention, schedule, storage, tag)"),
                Arguments.of(base + "[retention]\nkeep_lats = 3\n", ": unknown key 'keep_lats' in "
                        + "[retention] (keys: group_by, keep_daily, keep_hourly, keep_last, keep_monthly, "
                        + "keep_weekly, keep_within, keep_yearly, max_unused)"),
                Arguments.of(base + "[retention]\nkeep_last = -2\n",
                        ": retention.keep_last: '-2': expected 0 or more, or \"unlimited\""),
                Arguments.of(base + "[retention]\nkeep_last = 0\n", ": retention: keeps nothing: give at least "
                        + "one keep_* rule (e.g. keep_last = 7), or leave [retention] out to keep every backup"),
                Arguments.of(base + "[retention]\nkeep_within = \"2x\"\n", ": retention.keep_within: invalid span "
                        + "'2x': use numbers with y, m, w, d, h in that order, e.g. 1y6m, 14d, 36h"),
                Arguments.of(base + "[retention]\nkeep_last = 1\ngroup_by = \"host\"\n",
                        ": retention.group_by: 'host': expected device, device-tags or none"),
                Arguments.of(base + "[retention]\nkeep_last = 1\nmax_unused = \"lots\"\n",
                        ": retention.max_unused: expected a share such as 5%, a size such as 100M, or unlimited, "
                        + "not 'lots'"),
                Arguments.of(base + "[retention]\nkeep_last = 1\nmax_unused = \"100%\"\n",
                        ": retention.max_unused: expected a share such as 5%, a size such as 100M, or unlimited, "
                        + "not '100%'"),
                Arguments.of(base + "[storage]\nlimit = \"lots\"\n", ": storage.limit: invalid size 'lots': use a "
                        + "number with an optional K, M, G or T suffix, e.g. 4G"),
                Arguments.of(base + "[hooks]\ntimeout = \"soon\"\n",
                        ": hooks.timeout: 'soon': expected a duration such as 30s, 10m, 1h"),
                Arguments.of(base + "[hooks]\nfailure = \"retry\"\n",
                        ": hooks.failure: 'retry': expected abort or ignore"),
                Arguments.of(base + "encryption = \"rot13\"\n",
                        ": encryption: 'rot13': expected aes-256-gcm or none"),
                Arguments.of(base + "password_file = \"/a\"\nkey_file = \"/b\"\n",
                        ": password_file: give one of password_file, key_file and password_command"),
                Arguments.of(base + "[check]\nread_data_subset = \"150%\"\n",
                        ": check.read_data_subset: '150%': expected a share such as 5%"),
                Arguments.of(base + "schedule = \"\"\n", ": schedule: '': expected a systemd calendar event, "
                        + "e.g. daily or *-*-* 02:30"),
                Arguments.of("devices = \"/dev/vdb\"\nrepository = \"/b\"\n",
                        ": devices: expected a list, e.g. [\"/dev/vdb\"]"),
                Arguments.of("devices = [\"/dev/vdb\"]\nrepository = \"/b\"\nstorage = \"/var/tmp\"\n",
                        ": storage: expected a [section]"),
                Arguments.of("devices = [\"/dev/vdb\"\n", ": not valid TOML: "));
    }

    @ParameterizedTest
    @MethodSource("badJobs")
    void aBadJobFileIsOneLineAndExitStatus2(String text, String message) throws IOException {
        Path file = job("bad", text);
        Run r = Run.of("backup", "run", "bad", "--jobs-dir", jobs.toString());
        assertEquals(ExitCodes.USAGE, r.status(), r::err);
        assertEquals(1, r.errLines(), r::err);
        assertTrue(r.err().startsWith("blksnap backup run: " + file + message), r::err);
        assertEquals("", r.out());
    }

    @Test
    void aMissingJobOrABadNameIsOneLine() {
        Run r = Run.of("backup", "run", "nope", "--jobs-dir", jobs.toString());
        assertEquals(ExitCodes.USAGE, r.status());
        assertEquals("blksnap backup run: no job 'nope': " + jobs.resolve("nope.conf") + " does not exist\n",
                r.err());
        r = Run.of("backup", "run", "-x", "--jobs-dir", jobs.toString());
        assertEquals(ExitCodes.USAGE, r.status());
        r = Run.of("backup", "run", "a b", "--jobs-dir", jobs.toString());
        assertEquals(ExitCodes.USAGE, r.status());
        assertEquals("blksnap backup run: invalid job name 'a b': letters, digits, '_', '.' and '-', starting with "
                + "a letter or digit, at most 64\n", r.err());
    }
}
