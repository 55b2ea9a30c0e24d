package org.blksnap.cli.commands;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.blksnap.cli.Main;
import org.blksnap.cli.job.JobFile;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code blksnap backup run JOB}: what the blksnap-backup@JOB timer starts. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run a backup job: 'backup create' of the job's devices into its repository, with its "
                + "hooks; then, only if the backup was stored, 'backup prune' by its [retention] and 'backup "
                + "check' as its [check] says. The job file is read and checked whole before anything runs.",
            "",
            "JOB is a name, read from /etc/blksnap/jobs/JOB.conf (TOML; see blksnap(8) and the README's Jobs and "
                    + "timers), or the path of a job file. The output is one line per event, for the journal "
                    + "(no progress bars without a terminal). The exit status is that of the first step that "
                    + "failed, so that the unit's OnFailure= fires; the steps after it do not run.",
            "",
            "The timer blksnap-backup@JOB.timer (installed disabled) runs it: systemctl enable --now "
                    + "blksnap-backup@JOB.timer."},
        footer = {"", "Examples:", "  blksnap backup run web1",
            "  blksnap backup run /root/jobs/test.conf --dry-run",
            "  systemctl enable --now blksnap-backup@web1.timer"})
public final class BackupRunCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "JOB", description = "The job's name, or the path of its file.")
    String job;

    @Option(names = "--jobs-dir", paramLabel = "DIR", defaultValue = "/etc/blksnap/jobs",
            description = "Where job names are looked up (default: /etc/blksnap/jobs).")
    Path jobsDir;

    @Option(names = "--dry-run", description = "Check the job file and print the commands it would run, and its "
            + "schedule; run nothing.")
    boolean dryRun;

    @Override
    public Integer call() throws Exception {
        JobFile j = JobFile.find(job, jobsDir);
        List<List<String>> steps = new ArrayList<>();
        steps.add(j.createArgs());
        if (!j.pruneArgs().isEmpty()) {
            steps.add(j.pruneArgs());
        }
        if (!j.checkArgs().isEmpty()) {
            steps.add(j.checkArgs());
        }
        if (dryRun) {
            out().println("job " + j.name() + " (" + j.file() + "), schedule: " + j.schedule());
            for (List<String> s : steps) {
                out().println("  blksnap " + String.join(" ", s.stream().map(BackupRunCommand::quoted).toList()));
            }
            out().flush();
            return 0;
        }
        long start = System.nanoTime();
        note("job " + j.name() + ": started (" + j.file() + ")");
        for (List<String> s : steps) {
            String step = s.get(1);
            int status = Main.commandLine(out(), err()).execute(s.toArray(String[]::new));
            if (status != 0) {
                note("job " + j.name() + ": " + step + " failed with exit status " + status
                        + (steps.getLast() == s ? "" : "; the steps after it were not run"));
                return status;
            }
            note("job " + j.name() + ": " + step + " done");
        }
        note(String.format(Locale.ROOT, "job %s: done in %.1f s", j.name(), (System.nanoTime() - start) / 1e9));
        return 0;
    }

    /** Quotes a word for the dry run's lines, so they can be pasted into a shell. */
    private static String quoted(String word) {
        return word.matches("[A-Za-z0-9_./:=@%+,-]+") ? word : "'" + word.replace("'", "'\\''") + "'";
    }
}
