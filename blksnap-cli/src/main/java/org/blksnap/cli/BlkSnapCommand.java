package org.blksnap.cli;

import org.blksnap.cli.commands.AttachCommand;
import org.blksnap.cli.commands.BackupCommand;
import org.blksnap.cli.commands.CbtInfoCommand;
import org.blksnap.cli.commands.DetachCommand;
import org.blksnap.cli.commands.MarkDirtyBlockCommand;
import org.blksnap.cli.commands.ReadCbtMapCommand;
import org.blksnap.cli.commands.ServeCommand;
import org.blksnap.cli.commands.SnapshotAddCommand;
import org.blksnap.cli.commands.SnapshotCollectCommand;
import org.blksnap.cli.commands.SnapshotCommand;
import org.blksnap.cli.commands.SnapshotCreateCommand;
import org.blksnap.cli.commands.SnapshotDestroyCommand;
import org.blksnap.cli.commands.SnapshotInfoCommand;
import org.blksnap.cli.commands.SnapshotTakeCommand;
import org.blksnap.cli.commands.SnapshotWaitEventCommand;
import org.blksnap.cli.commands.SnapshotWatcherCommand;
import org.blksnap.cli.commands.StatusCommand;
import org.blksnap.cli.commands.VersionCommand;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The top-level {@code blksnap} command. */
@Command(name = "blksnap",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        synopsisSubcommandLabel = "COMMAND",
        description = {
            "Point-in-time snapshots and change-block tracking of live Linux block devices, "
                    + "through the blksnap kernel module.",
            "",
            "Low-level commands keep the names and options of the upstream blksnap tool; "
                    + "'snapshot', 'backup' and 'status' are the everyday workflow."},
        footer = {
            "",
            "Examples:",
            "  blksnap status",
            "  blksnap snapshot --device /dev/vdb --storage /var/tmp --limit 4G -- \\",
            "      sh -c 'dd if=$BLKSNAP_IMAGE_0 of=/backup/vdb.img bs=1M'",
            "  blksnap cbtinfo --device /dev/vdb --json",
            "  blksnap backup create --device /dev/vdb --repo /backup/vdb",
            "  blksnap serve --device /dev/vdb",
            "  blksnap COMMAND --help"},
        subcommands = {
            NestedHelpCommand.class,
            VersionCommand.class,
            StatusCommand.class,
            SnapshotCommand.class,
            BackupCommand.class,
            ServeCommand.class,
            AttachCommand.class,
            DetachCommand.class,
            CbtInfoCommand.class,
            ReadCbtMapCommand.class,
            MarkDirtyBlockCommand.class,
            SnapshotCreateCommand.class,
            SnapshotAddCommand.class,
            SnapshotTakeCommand.class,
            SnapshotInfoCommand.class,
            SnapshotWaitEventCommand.class,
            SnapshotWatcherCommand.class,
            SnapshotCollectCommand.class,
            SnapshotDestroyCommand.class})
public final class BlkSnapCommand {
    /** Read by the error handler through the parse result. */
    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "Print stack traces of errors and progress details.")
    boolean verbose;
}
