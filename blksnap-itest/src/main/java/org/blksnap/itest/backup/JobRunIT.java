package org.blksnap.itest.backup;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * 'blksnap backup run JOB' end to end, as its timer runs it: the job file's
 * backup with its hooks, then prune by its retention and check; a second run
 * is incremental and the retention leaves one backup; a run whose
 * pre-freeze hook fails stores nothing, prunes nothing and exits 9.
 */
class JobRunIT {
    private static final long DEVICE = 32L << 20;

    private Path dir;

    @BeforeEach
    void dir() throws IOException {
        dir = Files.createTempDirectory("job-it");
    }

    @AfterEach
    void clean() throws IOException {
        Shell.run("rm", "-rf", dir.toString());
        assertEquals(List.of(), Snapshots.list(), "a job left a snapshot behind");
    }

    private static List<String> events(Blksnap.Result r) {
        return r.err().lines().filter(l -> l.startsWith("blksnap backup run: job nightly: "))
                .map(l -> l.substring("blksnap backup run: job nightly: ".length()).replaceFirst(" in [0-9.]+ s$", ""))
                .toList();
    }

    @Test
    void aJobBacksUpPrunesAndChecksAndAFailedHookStopsIt() throws Exception {
        Path jobs = Files.createDirectory(dir.resolve("jobs"));
        Path hooks = Files.createDirectory(dir.resolve("hooks.d"));
        Path repo = dir.resolve("repo");
        Path env = dir.resolve("env");
        try (LoopDevice src = LoopDevice.create(DEVICE)) {
            LiveFs.write(src.file(), (int) (8L << 20), 11);
            Hooks.install(hooks, "10-sync");
            Hooks.script(hooks, "20-env", "echo \"$1 $BLKSNAP_JOB $BLKSNAP_DEVICES\" >> " + env + "\n"
                    + "[ ! -e " + dir.resolve("fail") + " ] || [ \"$1\" != pre-freeze ] || exit 7\n");
            // Encryption off: the guest's emulated CPU takes most of a minute per Argon2id unlock.
            Files.writeString(jobs.resolve("nightly.conf"), """
                    devices = ["%s"]
                    repository = "%s"
                    encryption = "none"
                    tag = "nightly"

                    [storage]
                    path = "/tmp"
                    limit = "32M"

                    [hooks]
                    dir = "%s"
                    timeout = "30s"

                    [retention]
                    keep_last = 1

                    [check]
                    read_data = true
                    """.formatted(src.path(), repo, hooks));

            Blksnap.Result first = Blksnap.run("backup", "run", "nightly", "--jobs-dir", jobs.toString()).ok();
            Evidence.add(Evidence.Tally.SNAPSHOTS_TAKEN, 1);
            assertEquals(List.of("started (" + jobs.resolve("nightly.conf") + ")", "create done", "prune done",
                    "check done", "done"), events(first), first.err());

            LiveFs.write(src.file(), 1 << 20, 12);
            Blksnap.Result second = Blksnap.run("backup", "run", "nightly", "--jobs-dir", jobs.toString()).ok();
            Evidence.add(Evidence.Tally.SNAPSHOTS_TAKEN, 1);
            assertEquals(List.of("started (" + jobs.resolve("nightly.conf") + ")", "create done", "prune done",
                    "check done", "done"), events(second), second.err());
            assertTrue(second.out().contains("removed 1 backups, kept 1"), second.out());

            JsonNode list = Blksnap.run("backup", "list", "--repo", repo.toString(), "--json").ok().json();
            assertEquals(1, list.get("backups").size(), "keep_last = 1 after the second run");
            JsonNode kept = list.get("backups").get(0);
            assertEquals("nightly", kept.get("tag").asText(), kept.toString());
            assertEquals("incremental", kept.get("devices").get(0).get("mode").asText(), kept.toString());
            assertEquals(List.of("pre-freeze nightly " + src.path(), "post-thaw nightly " + src.path(),
                    "pre-freeze nightly " + src.path(), "post-thaw nightly " + src.path()), Files.readAllLines(env));

            Files.createFile(dir.resolve("fail"));
            Blksnap.Result third = Blksnap.run("backup", "run", "nightly", "--jobs-dir", jobs.toString());
            assertEquals(9, third.status(), third.err());
            assertEquals(List.of("started (" + jobs.resolve("nightly.conf") + ")",
                    "create failed with exit status 9; the steps after it were not run"), events(third), third.err());
            JsonNode after = Blksnap.run("backup", "list", "--repo", repo.toString(), "--json").ok().json();
            assertEquals(List.of(kept.get("id").asText()), after.get("backups").findValuesAsText("id"));
            Evidence.fault("pre-freeze hook failure in a job");
        }
    }
}
