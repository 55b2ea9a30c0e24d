package org.blksnap.cli.commands;

import org.blksnap.cli.UsageException;

import picocli.CommandLine.Command;

/** {@code blksnap backup}: the group of backup commands. */
@Command(name = "backup", mixinStandardHelpOptions = true, synopsisSubcommandLabel = "COMMAND",
        description = {"Consistent, incremental, deduplicated image backups of live block devices, and their "
                + "restore.",
            "",
            "'create' takes one blksnap snapshot of all --device at one point in time, reads the images and stores "
                    + "them in a repository directory as compressed chunks named by their SHA-256 (identical "
                    + "chunks are stored once, all-zero chunks not at all), then destroys the snapshot. When the "
                    + "device's change tracker is in the generation the previous backup recorded, only the blocks "
                    + "changed since then are read; everything else is taken from the previous backup.",
            "",
            "A backup is visible only when all its chunks are on disk: a backup that fails or is killed leaves "
                    + "the repository as it was."},
        footer = {"", "Examples:",
            "  blksnap backup create --device /dev/vdb --repo /backup/vdb",
            "  blksnap backup list --repo /backup/vdb",
            "  blksnap backup restore latest --repo /backup/vdb --to /dev/vdc --verify",
            "  blksnap backup verify --repo /backup/vdb --read-data",
            "  blksnap backup prune --repo /backup/vdb --keep-last 7"},
        subcommands = {org.blksnap.cli.NestedHelpCommand.class, BackupCreateCommand.class, BackupListCommand.class, BackupRestoreCommand.class,
            BackupVerifyCommand.class, BackupPruneCommand.class})
public final class BackupCommand extends BaseCommand {
    @Override
    public Integer call() {
        throw new UsageException("missing command: create, list, restore, verify or prune (see 'blksnap backup "
                + "--help')");
    }
}
