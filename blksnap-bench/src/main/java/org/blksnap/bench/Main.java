package org.blksnap.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** blksnap-bench: {@code run} measures inside the guest, {@code report} writes the results on the host. */
@Command(name = "blksnap-bench", mixinStandardHelpOptions = true,
        description = {"Benchmarks of blksnap: fio scenarios reported as ratios to the bare device.",
            "'make bench' runs 'run' in one guest boot, then 'report' on the host; 'make bench-backup' runs "
                    + "'host-backup' steps on the host next to borg and restic."},
        subcommands = {RunCommand.class, ReportCommand.class, org.blksnap.bench.host.HostBackupCommand.class})
public final class Main implements Runnable {

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    /** @param args the command line */
    public static void main(String[] args) {
        System.exit(new CommandLine(new Main()).execute(args));
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is needed: run or report");
    }
}
