package org.blksnap.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.blksnap.cli.job.JobFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped systemd units, generator and example job, as the package
 * installs them (the package test checks them installed, in the guest).
 */
class SystemdUnitsTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path SYSTEMD = ROOT.resolve("systemd");

    @TempDir
    Path dir;

    private record Ran(int status, String output) {
    }

    private static Ran run(List<String> command, List<String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        for (String kv : env) {
            int eq = kv.indexOf('=');
            pb.environment().put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "still running: " + command);
        return new Ran(p.exitValue(), out);
    }

    @Test
    void theServiceAndTimerPassSystemdAnalyzeVerify() throws IOException, InterruptedException {
        // An instance of each template; ExecStart must exist, and the host
        // has no installed blksnap: this tree's launcher stands in for it.
        String service = Files.readString(SYSTEMD.resolve("blksnap-backup@.service"));
        assertTrue(service.contains("\nExecStart=/usr/sbin/blksnap backup run %i\n"), service);
        Files.writeString(dir.resolve("blksnap-backup@web1.service"), service.replace("/usr/sbin/blksnap",
                ROOT.resolve("bin/blksnap").toString()));
        Files.copy(SYSTEMD.resolve("blksnap-backup@.timer"), dir.resolve("blksnap-backup@web1.timer"));
        // --man=no: the man page is installed by the package, not on this host.
        Ran r = run(List.of("systemd-analyze", "verify", "--man=no", dir.resolve("blksnap-backup@web1.service")
                .toString(), dir.resolve("blksnap-backup@web1.timer").toString()), List.of());
        assertEquals(0, r.status(), r.output());
        assertEquals("", r.output());
    }

    @Test
    void theTimerIsInstalledDisabledAndWantedByTimersTarget() throws IOException {
        String timer = Files.readString(SYSTEMD.resolve("blksnap-backup@.timer"));
        assertTrue(timer.contains("\n[Install]\nWantedBy=timers.target\n"), timer);
        assertTrue(timer.contains("\nOnCalendar=daily\n") && timer.contains("\nPersistent=true\n"), timer);
        // The service has no [Install]: only its timer starts it.
        assertTrue(!Files.readString(SYSTEMD.resolve("blksnap-backup@.service")).contains("[Install]"));
        // Nothing in the packaging enables or starts a unit.
        String rules = Files.readString(ROOT.resolve("debian/rules"));
        assertTrue(!rules.contains("dh_installsystemd") || rules.contains("--no-enable"), rules);
    }

    @Test
    void theGeneratorGivesEachTimerItsJobsSchedule() throws IOException, InterruptedException {
        Path jobs = Files.createDirectory(dir.resolve("jobs"));
        Path out = Files.createDirectory(dir.resolve("out"));
        Files.writeString(jobs.resolve("web1.conf"), "devices = [\"/dev/vdb\"]\n  schedule = \"*-*-* 02:30\"  "
                + "# nightly\nrepository = \"/b\"\n");
        Files.writeString(jobs.resolve("db.conf"), "schedule = \"hourly\"\n[retention]\nschedule = \"weekly\"\n");
        Files.writeString(jobs.resolve("late.conf"), "devices = [\"/dev/vdb\"]\n[hooks]\nschedule = \"weekly\"\n");
        Files.writeString(jobs.resolve("none.conf"), "devices = [\"/dev/vdb\"]\n");
        Files.writeString(jobs.resolve("a b.conf"), "schedule = \"hourly\"\n");
        Files.writeString(jobs.resolve(".hidden.conf"), "schedule = \"hourly\"\n");
        Files.writeString(jobs.resolve("notes.txt"), "schedule = \"hourly\"\n");
        Ran r = run(List.of(SYSTEMD.resolve("blksnap-backup-generator").toString(), out.toString(),
                out.toString(), out.toString()), List.of("BLKSNAP_JOBS_DIR=" + jobs));
        assertEquals(0, r.status(), r.output());
        List<String> made = new ArrayList<>();
        try (var walk = Files.walk(out)) {
            walk.filter(Files::isRegularFile).forEach(p -> made.add(out.relativize(p).toString()));
        }
        made.sort(null);
        assertEquals(List.of("blksnap-backup@db.timer.d/50-schedule.conf",
                "blksnap-backup@web1.timer.d/50-schedule.conf"), made);
        assertEquals("# From " + jobs.resolve("web1.conf") + ", by blksnap-backup-generator.\n[Timer]\n"
                + "OnCalendar=\nOnCalendar=*-*-* 02:30\n",
                Files.readString(out.resolve("blksnap-backup@web1.timer.d/50-schedule.conf")));
        assertTrue(Files.readString(out.resolve("blksnap-backup@db.timer.d/50-schedule.conf"))
                .endsWith("\nOnCalendar=hourly\n"));
        // systemd accepts what it wrote.
        Ran cal = run(List.of("systemd-analyze", "calendar", "*-*-* 02:30"), List.of());
        assertEquals(0, cal.status(), cal.output());
    }

    @Test
    void withoutAJobsDirectoryTheGeneratorMakesNothing() throws IOException, InterruptedException {
        Path out = Files.createDirectory(dir.resolve("out"));
        Ran r = run(List.of(SYSTEMD.resolve("blksnap-backup-generator").toString(), out.toString()),
                List.of("BLKSNAP_JOBS_DIR=" + dir.resolve("missing")));
        assertEquals(0, r.status(), r.output());
        try (var l = Files.list(out)) {
            assertEquals(0, l.count());
        }
    }

    @Test
    void theExampleJobIsAValidJob() throws IOException {
        JobFile j = JobFile.find(ROOT.resolve("examples/jobs/example.conf").toString(), dir);
        assertEquals("example", j.name());
        assertEquals("*-*-* 02:30", j.schedule());
        assertEquals(List.of("backup", "prune", "--repo", "/backup/web1", "--lock-wait", "10m", "--password-file",
                "/etc/blksnap/web1.pw", "--keep-last", "7", "--keep-daily", "14", "--keep-weekly", "8",
                "--keep-monthly", "12"), j.pruneArgs());
    }
}
