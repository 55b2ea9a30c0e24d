package org.blksnap.cli.commands;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.blksnap.backup.engine.Checker;
import org.blksnap.backup.engine.Verifier;
import org.blksnap.backup.progress.ConsoleProgress;
import org.blksnap.backup.repo.ChunkStore;
import org.blksnap.backup.repo.Repository;
import org.blksnap.cli.ExitCodes;
import org.blksnap.cli.JsonOption;
import org.blksnap.cli.Output;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code blksnap backup check}. */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = {"Check the whole repository: every backup's summary and manifest, every index, every "
                + "pack's own list of chunks, then every chunk a backup needs (as 'backup verify' does).",
            "",
            "--repair (needs the repository alone) rebuilds damaged or lost index entries from the packs' own "
                    + "lists and removes damaged packs no index needs. Lost chunk data cannot be repaired: it "
                    + "stays named, and 'backup forget' removes the backups that need it. Every problem left is "
                    + "printed on its own line; the exit status is then 1."},
        footer = {"", "Examples:", "  blksnap backup check --repo /backup/vdb",
            "  blksnap backup check -r /backup/vdb --read-data-subset 10%%",
            "  blksnap backup check -r /backup/vdb --repair"})
public final class BackupCheckCommand extends BaseCommand {
    @Mixin
    RepoOption repo;

    @Option(names = "--repair", description = "Repair what can be repaired (index entries, leftover packs).")
    boolean repair;

    @Option(names = "--read-data", description = "Also read, decompress and hash every chunk.")
    boolean readData;

    @Option(names = "--read-data-subset", paramLabel = "N%",
            description = "Read the chunks of N%% of the packs, chosen at random (a different part each run).")
    String subset;

    @Mixin
    JsonOption json;

    @Override
    public Integer call() throws Exception {
        int percent = readData ? 100 : 0;
        if (subset != null) {
            if (readData) {
                throw new IllegalArgumentException("give --read-data or --read-data-subset, not both");
            }
            percent = parsePercent(subset);
        }
        Checker.Report report;
        ChunkStore.LockMode mode = repair ? ChunkStore.LockMode.EXCLUSIVE : ChunkStore.LockMode.SHARED;
        try (Repository r = Repository.open(repo.store(), mode, repo.lockWait,
                repo.secrets())) {
            Verifier v = new Verifier(r, Runtime.getRuntime().availableProcessors(),
                    ConsoleProgress.create("chunks", spec.qualifiedName() + ": ", err()));
            report = new Checker(r, v).check(percent, repair);
        }
        List<String> problems = new ArrayList<>(report.problems());
        problems.addAll(report.chunks().problems());
        if (json.json) {
            Map<String, Object> o = Output.record();
            o.put("backups", report.chunks().backups());
            o.put("chunks", report.chunks().chunks());
            o.put("read_data_percent", percent);
            o.put("repaired", report.repaired());
            o.put("problems", problems);
            o.put("ok", report.clean());
            new Output(out(), true).print(o);
        } else {
            for (String l : report.repaired()) {
                out().println("repaired: " + l);
            }
            for (String p : problems) {
                out().println(p);
            }
            out().printf("%s: %d backups, %d chunks checked%s, %d problems%n", report.clean() ? "ok" : "FAILED",
                    report.chunks().backups(), report.chunks().chunks(),
                    percent == 0 ? "" : ", data of " + percent + "% of the packs read", problems.size());
            out().flush();
        }
        return report.clean() ? 0 : ExitCodes.FAILURE;
    }

    private static int parsePercent(String text) {
        String t = text.strip();
        if (t.endsWith("%")) {
            t = t.substring(0, t.length() - 1);
        }
        try {
            int n = Integer.parseInt(t);
            if (n >= 1 && n <= 100) {
                return n;
            }
        } catch (NumberFormatException e) {
            // Named below.
        }
        throw new IllegalArgumentException("--read-data-subset: expected a share from 1% to 100%, got '" + text + "'");
    }
}
